import Foundation

/// The perturbation kernel's log-density at squared distance d² from its centre, up to a constant:
/// −(N+D)/2·log1p(d²/r²) with r² = σ²D, or −d²/2σ² at D = ∞.
struct KernelLogDensity {
    private let exponent: Double
    private let scale: Double
    private let infinite: Bool

    init(dim: Int, augmentedDimension: AugmentedDimension, sigma: Double) {
        switch augmentedDimension {
        case .infinite:
            exponent = 0
            scale = 2 * sigma * sigma
            infinite = true
        case .finite(let d):
            exponent = -(Double(dim) + d) / 2
            scale = sigma * sigma * d
            infinite = false
        }
    }

    func callAsFunction(_ squaredDistance: Double) -> Double {
        infinite ? -squaredDistance / scale : exponent * log1p(squaredDistance / scale)
    }

    /// The squared distance at which the log-density falls to `log` (the inverse of the above).
    func squaredDistance(atLog log: Double) -> Double {
        infinite ? -log * scale : scale * expm1(log / exponent)
    }
}

/// Σ_k w_k y_k for each row x of a batch, the weights from the squared distances
/// ‖x − y_k‖² = ‖x‖² + ‖y_k‖² − 2x·y_k: one GEMM for the dot products, each
/// row's weights in parallel, a second GEMM for the sums. The oracle and the stable target
/// weigh this way.
struct WeightedPointSums {
    /// Writes row r's weights into `weights` from its squared distances to the k points (float64,
    /// scratch the weighing may overwrite).
    typealias Weigh = (
        _ row: Int, _ squaredDistances: UnsafeMutableBufferPointer<Double>,
        _ weights: UnsafeMutablePointer<Float>
    ) -> Void

    private var products = Scratch(), xNorms = Scratch()
    /// One buffer per thread: a row's squared distances, then what its weighing makes of them.
    private var logs: [[Double]] = []

    /// The sums for `rows` rows of `x` over `count` points `y` of `dim` coordinates (their
    /// squared norms `pointNorms`), the weighing on `threads` (nil: `Compute.threads`).
    mutating func compute(
        _ x: UnsafePointer<Float>, rows: Int, points y: UnsafePointer<Float>,
        pointNorms: UnsafePointer<Float>, count k: Int, dim n: Int,
        into out: UnsafeMutablePointer<Float>, threads: Int? = nil, weigh: Weigh
    ) {
        let w = products.pointer(rows * k)
        let xn = xNorms.pointer(rows)
        Kernels.rowSquaredNorms(x, rows: rows, cols: n, into: xn)
        BLAS.gemm(
            m: rows, n: k, k: n, a: x, lda: n, transposeA: false, b: y, ldb: n, transposeB: true,
            c: w, ldc: k)
        let parts = Compute.parts(rows: rows, minRows: 4, threads: threads)
        while logs.count < parts { logs.append([Double](repeating: 0, count: k)) }
        logs.withUnsafeMutableBufferPointer { buffers in
            Compute.run(parts: parts) { part in
                buffers[part].withUnsafeMutableBufferPointer { buffer in
                    let d2 = UnsafeMutableBufferPointer(rebasing: buffer[0..<k])
                    for r in Compute.range(part: part, of: parts, count: rows) {
                        let row = w + r * k
                        for j in 0..<k {
                            d2[j] = max(
                                0, Double(xn[r]) + Double(pointNorms[j]) - 2 * Double(row[j]))
                        }
                        weigh(r, d2, row)
                    }
                }
            }
        }
        BLAS.gemm(
            m: rows, n: n, k: k, a: w, lda: k, transposeA: false, b: y, ldb: n, transposeB: false,
            c: out, ldc: n)
    }
}
