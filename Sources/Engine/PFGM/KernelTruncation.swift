import Foundation

/// The perturbation kernel with its heavy tail cut off: radii drawn only up to the kernel's
/// q-quantile, R²/σ² ≤ the q-quantile of D·B/(1 − B), B ~ Beta(N/2, D/2); below D = 2 (where E[R²]
/// stops being finite) the ratio B/(1 − B) is held to D = 2's q-quantile; and never inside the
/// radius that the D = ∞ kernel (R²/σ² ~ χ²_N) passes only with probability 10⁻⁴. Small D has a
/// power-law tail that puts a few per cent of training points tens of σ away; cutting it lets the
/// network fit the bulk. Where the kernel is close to Gaussian (large D) a cut at its q-quantile
/// would only make the posterior mean jump at the cut, so there the floor leaves it whole. q = 1 is
/// the untruncated kernel. A cut kernel is still a scale family in σ, so the probability-flow ODE
/// with its posterior mean transports it exactly.
public struct KernelTruncation: Sendable, Equatable {
    public let quantile: Double
    /// log of the largest R²/σ² kept.
    public let logMaxSquaredRatio: Double

    /// The floor: the cut never lies inside the D = ∞ kernel's quantile of this level.
    public static let gaussianQuantile = 1 - 1e-4

    /// Above this D the Beta quantile is replaced by its D = ∞ limit (relative difference ~ N/D).
    static let gaussianBeyond = 1e6

    public init(quantile: Double, dim: Int, augmentedDimension: AugmentedDimension) {
        precondition(quantile > 0 && quantile <= 1, "the kernel quantile must be in (0, 1]")
        self.quantile = quantile
        var limit = Self.logSquaredRatioQuantile(
            quantile, dim: dim, augmentedDimension: augmentedDimension)
        if case .finite(let d) = augmentedDimension, d < 2 {
            limit = min(
                limit,
                log(d)
                    + Self.logSquaredRatioQuantile(
                        quantile, dim: dim, augmentedDimension: .finite(2)) - log(2))
        }
        logMaxSquaredRatio = max(
            limit,
            Self.logSquaredRatioQuantile(
                Self.gaussianQuantile, dim: dim, augmentedDimension: .infinite))
    }

    /// Nil when the draws are not truncated at all.
    public static func make(quantile: Double?, dim: Int, augmentedDimension: AugmentedDimension)
        -> KernelTruncation?
    {
        guard let quantile, quantile < 1 else { return nil }
        return KernelTruncation(
            quantile: quantile, dim: dim, augmentedDimension: augmentedDimension)
    }

    /// The largest R² kept at noise level σ.
    public func maximumSquaredRadius(sigma: Double) -> Double {
        sigma * sigma * exp(logMaxSquaredRatio)
    }

    /// log of the q-quantile of R²/σ² for the kernel at N and D.
    public static func logSquaredRatioQuantile(
        _ q: Double, dim n: Int, augmentedDimension d: AugmentedDimension
    ) -> Double {
        guard q < 1 else { return .infinity }
        let a = Double(n) / 2
        if case .finite(let dv) = d, dv <= gaussianBeyond {
            let logOdds = SpecialFunctions.invert(q, start: log(Double(n) / dv)) {
                SpecialFunctions.betaCDF(logOdds: $0, a: a, b: dv / 2)
            }
            return log(dv) + logOdds
        }
        let logGamma = SpecialFunctions.invert(q, start: log(a)) {
            SpecialFunctions.gammaCDF(exp($0), shape: a)
        }
        return log(2) + logGamma
    }
}

/// The truncation over a range of D for one network: log(R²/σ²) limits on a grid of log D,
/// interpolated (the limit is smooth in log D apart from its kink at D = 2, where the ratio starts
/// being held, so D = 2 is a knot of the grid), and D = ∞'s own.
public struct KernelTruncationTable: Sendable {
    /// Knots in log D, increasing, with their limits.
    let knots: [Double]
    let limits: [Double]
    let infiniteLimit: Double
    static let points = 129

    public init(quantile: Double, dim: Int, range: AugmentedDimensionRange) {
        let (lo, hi) = (log(range.lower), log(range.upper))
        var knots = (0..<Self.points).map { lo + (hi - lo) * Double($0) / Double(Self.points - 1) }
        if range.lower < 2, range.upper > 2 { knots = (knots + [log(2)]).sorted() }
        self.knots = knots
        limits = knots.map {
            KernelTruncation(quantile: quantile, dim: dim, augmentedDimension: .finite(exp($0)))
                .logMaxSquaredRatio
        }
        infiniteLimit =
            KernelTruncation(quantile: quantile, dim: dim, augmentedDimension: .infinite)
            .logMaxSquaredRatio
    }

    /// log of the largest R²/σ² kept at D (inside the range).
    public func logMaxSquaredRatio(_ d: AugmentedDimension) -> Double {
        guard case .finite(let v) = d else { return infiniteLimit }
        let x = min(max(log(v), knots[0]), knots[knots.count - 1])
        // The last knot at or below x, so that [i, i + 1] holds it.
        var (i, j) = (0, knots.count - 1)
        while j - i > 1 {
            let m = (i + j) / 2
            if knots[m] <= x { i = m } else { j = m }
        }
        let f = (x - knots[i]) / max(knots[i + 1] - knots[i], 1e-12)
        return limits[i] * (1 - f) + limits[i + 1] * f
    }
}
