import Foundation

/// Prior draws coupled across D: each sample keeps one direction on the unit sphere and one
/// uniform u, and at each D its radius is that D's prior quantile at u (the Beta-prime quantile
/// for finite D, the χ quantile for D = ∞, within the prior's cut). The k-th sample of every D
/// then comes from the same noise, so what differs between two D is what D does.
public struct CoupledNoise: Sendable {
    /// One unit direction per row.
    public let directions: Matrix
    /// One u in (0, 1) per row.
    public let uniforms: [Double]

    public init(count: Int, dim: Int, seed: UInt64) {
        var rng = RandomSource(seed: seed, stream: 7)
        var directions = Matrix(rows: count, cols: dim)
        directions.storage.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
        for r in 0..<count {
            var norm2 = 0.0
            for c in 0..<dim { norm2 += Double(directions[r, c] * directions[r, c]) }
            let scale = Float(1 / max(norm2.squareRoot(), .leastNormalMagnitude))
            for c in 0..<dim { directions[r, c] *= scale }
        }
        self.directions = directions
        uniforms = (0..<count).map { _ in rng.uniformOpen() }
    }

    public var count: Int { directions.rows }
    public var dim: Int { directions.cols }

    /// The prior's draws at D and σ (σ_max for sampling), cut as `truncation` says.
    public func latents(
        at d: AugmentedDimension, sigma: Double, truncation: KernelTruncation?
    ) -> Matrix {
        var x = directions
        for r in 0..<count {
            let radius = Float(
                Self.radius(
                    quantile: uniforms[r], dim: dim, augmentedDimension: d, sigma: sigma,
                    truncation: truncation))
            for c in 0..<dim { x[r, c] *= radius }
        }
        return x
    }

    /// The u-quantile of the prior's radius at D and σ: log(R²/(σ²D)) is the log-odds of
    /// B ~ Beta(N/2, D/2) for finite D, log(R²/σ²) the log of 2·Gamma(N/2) for D = ∞; a cut keeps
    /// the share of the law below it, and u runs over that share.
    public static func radius(
        quantile u: Double, dim n: Int, augmentedDimension d: AugmentedDimension, sigma: Double,
        truncation: KernelTruncation?
    ) -> Double {
        let a = Double(n) / 2
        let limit = truncation?.logMaxSquaredRatio ?? .infinity
        switch d {
        case .finite(let dv):
            let cdf = { (t: Double) in SpecialFunctions.betaCDF(logOdds: t, a: a, b: dv / 2) }
            let t = quantile(u, below: limit - log(dv), start: log(a / max(dv / 2, 1e-3)), cdf)
            return min(sigma * dv.squareRoot() * exp(0.5 * t), Perturbation.maximumRadius)
        case .infinite:
            let cdf = { (t: Double) in SpecialFunctions.gammaCDF(exp(t) / 2, shape: a) }
            return sigma * exp(0.5 * quantile(u, below: limit, start: log(Double(n)), cdf))
        }
    }

    /// The t with cdf(t) = u·cdf(bound), at most `bound`.
    private static func quantile(
        _ u: Double, below bound: Double, start: Double, _ cdf: (Double) -> Double
    ) -> Double {
        let kept = bound.isFinite ? cdf(bound) : 1
        let t = SpecialFunctions.invert(
            u * kept, start: bound.isFinite ? min(start, bound) : start, cdf)
        return min(t, bound)
    }
}
