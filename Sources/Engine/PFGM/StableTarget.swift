import Foundation

/// The stable target field (the official PFGM++ code's STF): each perturbed row x regresses on its
/// posterior mean over a reference batch of clean points, Σ_k w_k y_k with w_k ∝ the whole
/// kernel at the row's own σ and D (as `OracleDenoiser`), instead of on the one y it was drawn
/// from. The reference holds the batch's own points, so the minimiser is the same as the limit of
/// a large reference, and the target's variance falls where the posterior is wide (large σ, small
/// D).
public final class StableTarget {
    public let referenceRows: Int
    public let dim: Int
    private var sums = WeightedPointSums()
    private var pointNorms = Scratch()

    public init(referenceRows: Int, dim: Int) {
        self.referenceRows = referenceRows
        self.dim = dim
    }

    /// Writes the targets of `rows` perturbed rows `x` (row r at σ = sigmas[r] and D = dims[r])
    /// over the reference points `y` (`referenceRows` × `dim`) into `out`, on `threads` (nil:
    /// `Compute.threads`).
    public func targets(
        x: UnsafePointer<Float>, rows: Int, sigmas: UnsafePointer<Float>,
        dims: [AugmentedDimension], reference y: UnsafePointer<Float>,
        into out: UnsafeMutablePointer<Float>, threads: Int? = nil
    ) {
        let yn = pointNorms.pointer(referenceRows)
        Kernels.rowSquaredNorms(y, rows: referenceRows, cols: dim, into: yn)
        sums.compute(
            x, rows: rows, points: y, pointNorms: yn, count: referenceRows, dim: dim, into: out,
            threads: threads
        ) { r, squaredDistances, weights in
            let density = KernelLogDensity(
                dim: dim, augmentedDimension: dims[r], sigma: Double(sigmas[r]))
            weigh(squaredDistances, density, into: weights)
        }
    }

    /// A point this far below the nearest in log-weight weighs under e⁻⁴⁰ of it, below what a
    /// float sum of the weights can hold.
    static let negligibleLog = 40.0

    /// One row's normalised weights from its squared distances d² (overwritten). The kernel falls
    /// with d², so one cut on d² finds the points that weigh nothing, without their logarithms.
    private func weigh(
        _ d2: UnsafeMutableBufferPointer<Double>, _ density: KernelLogDensity,
        into weights: UnsafeMutablePointer<Float>
    ) {
        let maxLog = density(d2.min() ?? 0)
        let cut = density.squaredDistance(atLog: maxLog - Self.negligibleLog)
        var total = 0.0
        for j in d2.indices {
            d2[j] = d2[j] > cut ? 0 : exp(density(d2[j]) - maxLog)
            total += d2[j]
        }
        for j in d2.indices { weights[j] = Float(d2[j] / total) }
    }
}
