import Foundation

/// The PFGM++ perturbation kernel p_r(x | y) ∝ (‖x − y‖² + r²)^(−(N+D)/2), r = σ√D, and its D = ∞
/// limit N(0, σ²I).
///
/// A draw is R·u with u uniform on the unit sphere and R = r·√(g₁/g₂), g₁ ~ Gamma(N/2), g₂ ~
/// Gamma(D/2), so R²/r² is Beta-prime(N/2, D/2). The ratio is formed from Gamma logarithms, so
/// neither very large D (g₂ in the millions) nor tiny D (g₂ underflowing) loses it.
public enum Perturbation {
    /// Radii are clamped here so float32 coordinates stay finite; only D well below 1 reaches it.
    public static let maximumRadius = 1e30

    /// Writes one perturbation per row into out[rows×n], row r at noise level sigmas[r]; with a
    /// truncation, radii beyond its quantile are drawn again (the direction is kept).
    public static func sample(
        into out: UnsafeMutablePointer<Float>, rows: Int, dim n: Int,
        augmentedDimension d: AugmentedDimension, sigmas: UnsafePointer<Float>,
        truncation: KernelTruncation? = nil, rng: inout RandomSource
    ) {
        let limit = truncation?.logMaxSquaredRatio ?? .infinity
        sample(into: out, rows: rows, dim: n, sigmas: sigmas, rng: &rng) { _ in (d, limit) }
    }

    /// The same with a D and a log(R²/σ²) limit per row (one network over a range of D).
    public static func sample(
        into out: UnsafeMutablePointer<Float>, rows: Int, dim n: Int, sigmas: UnsafePointer<Float>,
        rng: inout RandomSource, kernel: (Int) -> (AugmentedDimension, Double)
    ) {
        rng.fillNormal(UnsafeMutableBufferPointer(start: out, count: rows * n))
        for r in 0..<rows {
            let row = out + r * n
            let sigma = Double(sigmas[r])
            let (d, limit) = kernel(r)
            var norm2: Double = 0
            if d.isInfinite && limit == .infinity {
                let s = Float(sigma)
                for c in 0..<n { row[c] *= s }
                continue
            }
            for c in 0..<n { norm2 += Double(row[c]) * Double(row[c]) }
            let radius = Self.radius(
                dim: n, augmentedDimension: d, sigma: sigma, gaussianNorm2: norm2, limit: limit,
                rng: &rng)
            let scale = Float(radius / max(norm2.squareRoot(), .leastNormalMagnitude))
            for c in 0..<n { row[c] *= scale }
        }
    }

    /// Rejected draws after which a cut radius is drawn by inverting the cut kernel's CDF instead:
    /// every D allowed keeps at least ~16% of the kernel (D = 0.1, N = 2, cut at 0.97), so this is
    /// rare, but it bounds the loop whatever the cut.
    static let rejectionTries = 64

    /// The radius of one draw: r·√(g₁/g₂) for finite D, σ·‖z‖ for D = ∞ (z the row's normal draw),
    /// drawn again while log(R²/σ²) lies beyond `limit`.
    static func radius(
        dim n: Int, augmentedDimension d: AugmentedDimension, sigma: Double, gaussianNorm2: Double,
        limit: Double, rng: inout RandomSource
    ) -> Double {
        let a = Double(n) / 2
        switch d {
        case .finite(let dv):
            // log(R²/r²) = log(g₁/g₂), the log-odds of B ~ Beta(N/2, D/2); the cut bounds it by
            // limit − log D.
            let draw = { (r: inout RandomSource) in r.logGamma(shape: a) - r.logGamma(shape: dv / 2)
            }
            let logRatio = cut(draw(&rng), bound: limit - log(dv), rng: &rng, draw: draw) {
                SpecialFunctions.betaCDF(logOdds: $0, a: a, b: dv / 2)
            }
            return min(sigma * dv.squareRoot() * exp(0.5 * logRatio), maximumRadius)
        case .infinite:
            // log(R²/σ²) = log(2g), g ~ Gamma(N/2); the first draw is the row's own normal vector.
            let draw = { (r: inout RandomSource) in log(2) + r.logGamma(shape: a) }
            let logSquared = cut(log(gaussianNorm2), bound: limit, rng: &rng, draw: draw) {
                SpecialFunctions.gammaCDF(exp($0) / 2, shape: a)
            }
            return sigma * exp(0.5 * logSquared)
        }
    }

    /// `first`, redrawn by `draw` while it lies beyond `bound` (`rejectionTries` draws in all);
    /// past them, a draw of t ≤ bound by inverting the CDF at a uniform share of what the cut
    /// keeps.
    private static func cut(
        _ first: Double, bound: Double, rng: inout RandomSource,
        draw: (inout RandomSource) -> Double, cdf: (Double) -> Double
    ) -> Double {
        var t = first
        var tries = 1
        while t > bound && tries < rejectionTries {
            t = draw(&rng)
            tries += 1
        }
        guard t > bound else { return t }
        let u = rng.uniform() * cdf(bound)
        return min(SpecialFunctions.invert(u, start: bound, cdf), bound)
    }

    /// K draws of the kernel at σ around the origin: the prior when σ = σ_max.
    public static func prior(
        count: Int, dim n: Int, augmentedDimension d: AugmentedDimension,
        sigma: Double, truncation: KernelTruncation? = nil, rng: inout RandomSource
    ) -> Matrix {
        var m = Matrix(rows: count, cols: n)
        let sigmas = [Float](repeating: Float(sigma), count: count)
        m.storage.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            sample(
                into: base, rows: count, dim: n, augmentedDimension: d, sigmas: sigmas,
                truncation: truncation, rng: &rng)
        }
        return m
    }
}
