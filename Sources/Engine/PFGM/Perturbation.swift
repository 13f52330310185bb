import Foundation

/// The PFGM++ perturbation kernel p_r(x | y) ∝ (‖x − y‖² + r²)^(−(N+D)/2), r = σ√D, and its D = ∞ limit N(0, σ²I).
///
/// A draw is R·u with u uniform on the unit sphere and R = r·√(g₁/g₂), g₁ ~ Gamma(N/2), g₂ ~ Gamma(D/2),
/// so R²/r² is Beta-prime(N/2, D/2). The ratio is formed from Gamma logarithms, so neither very
/// large D (g₂ in the millions) nor tiny D (g₂ underflowing) loses it.
public enum Perturbation {
    /// Radii are clamped here so float32 coordinates stay finite; only D well below 1 reaches it.
    public static let maximumRadius = 1e30

    /// The radius R = r·√(g₁/g₂) of one draw at noise level σ for finite D.
    static func radius(dim n: Int, augmentedDimension d: Double, sigma: Double, rng: inout RandomSource) -> Double {
        let logRatio = rng.logGamma(shape: Double(n) / 2) - rng.logGamma(shape: d / 2)
        return min(sigma * d.squareRoot() * exp(0.5 * logRatio), maximumRadius)
    }

    /// Writes one perturbation per row into out[rows×n], row r at noise level sigmas[r].
    public static func sample(into out: UnsafeMutablePointer<Float>, rows: Int, dim n: Int,
                              augmentedDimension d: AugmentedDimension, sigmas: UnsafePointer<Float>,
                              rng: inout RandomSource) {
        rng.fillNormal(UnsafeMutableBufferPointer(start: out, count: rows * n))
        for r in 0..<rows {
            let row = out + r * n
            let sigma = Double(sigmas[r])
            guard case .finite(let dv) = d else {
                let s = Float(sigma)
                for c in 0..<n { row[c] *= s }
                continue
            }
            var norm2: Double = 0
            for c in 0..<n { norm2 += Double(row[c]) * Double(row[c]) }
            let radius = Self.radius(dim: n, augmentedDimension: dv, sigma: sigma, rng: &rng)
            let scale = Float(radius / max(norm2.squareRoot(), .leastNormalMagnitude))
            for c in 0..<n { row[c] *= scale }
        }
    }

    /// K draws of the kernel at σ around the origin: the prior when σ = σ_max.
    public static func prior(count: Int, dim n: Int, augmentedDimension d: AugmentedDimension,
                             sigma: Double, rng: inout RandomSource) -> Matrix {
        var m = Matrix(rows: count, cols: n)
        let sigmas = [Float](repeating: Float(sigma), count: count)
        m.storage.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            sample(into: base, rows: count, dim: n, augmentedDimension: d, sigmas: sigmas, rng: &rng)
        }
        return m
    }
}
