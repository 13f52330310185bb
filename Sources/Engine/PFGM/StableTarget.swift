import Foundation

/// The stable target field (the official PFGM++ code's STF): each perturbed row x regresses on its
/// posterior mean over a reference batch of clean points, Σ_k w_k y_k with w_k ∝ the whole
/// kernel at the row's own σ and D (as `OracleDenoiser`), instead of on the one y it was drawn
/// from. The
/// reference holds the batch's own points, so the minimiser is the same as the limit of a large
/// reference, and the target's variance falls where the posterior is wide (large σ, small D).
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
            x, rows: rows, points: y, count: referenceRows, dim: dim, into: out, threads: threads
        ) {
            r, products, xNorm, logs in
            let density = KernelLogDensity(
                dim: dim, augmentedDimension: dims[r], sigma: Double(sigmas[r]))
            weights(products, xNorm: xNorm, pointNorms: yn, density, logs: logs)
        }
    }

    /// A point this far below the nearest in log-weight weighs under e⁻⁴⁰ of it, below what a
    /// float sum of the weights can hold.
    static let negligibleLog = 40.0

    /// Turns one row of dot products x·y_k into normalised weights. The kernel falls with d², so
    /// one cut on d² finds the points that weigh nothing, without their logarithms.
    private func weights(
        _ row: UnsafeMutablePointer<Float>, xNorm: Float, pointNorms: UnsafePointer<Float>,
        _ density: KernelLogDensity, logs: UnsafeMutableBufferPointer<Double>
    ) {
        var nearest = Double.infinity
        for j in 0..<referenceRows {
            logs[j] = max(0, Double(xNorm) + Double(pointNorms[j]) - 2 * Double(row[j]))
            nearest = min(nearest, logs[j])
        }
        let maxLog = density(nearest)
        let cut = density.squaredDistance(atLog: maxLog - Self.negligibleLog)
        var total = 0.0
        for j in 0..<referenceRows {
            logs[j] = logs[j] > cut ? 0 : exp(density(logs[j]) - maxLog)
            total += logs[j]
        }
        for j in 0..<referenceRows { row[j] = Float(logs[j] / total) }
    }
}
