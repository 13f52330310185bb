import CBLAS
import Foundation

/// The Fréchet distance between Gaussians fitted to two feature sets: ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ −
/// 2(Σ₁Σ₂)^½), with Tr(Σ₁Σ₂)^½ = Σ √λ(Σ₁^½ Σ₂ Σ₁^½). Computed in double precision.
public enum FrechetDistance {
    /// Mean and covariance (divided by K − 1) of K feature rows.
    public struct Statistics: Sendable {
        public let dim: Int
        public let count: Int
        public let mean: [Double]
        /// dim×dim, row-major.
        public let covariance: [Double]

        public init(mean: [Double], covariance: [Double], count: Int) {
            precondition(covariance.count == mean.count * mean.count, "covariance must be dim×dim")
            dim = mean.count
            self.count = count
            self.mean = mean
            self.covariance = covariance
        }
    }

    public static func statistics(_ features: Matrix) -> Statistics {
        let k = features.rows
        let n = features.cols
        precondition(k >= 2 && n >= 1, "Fréchet statistics need at least 2 rows")
        var mean = [Double](repeating: 0, count: n)
        for r in 0..<k { for c in 0..<n { mean[c] += Double(features[r, c]) } }
        for c in 0..<n { mean[c] /= Double(k) }
        var centered = [Double](repeating: 0, count: k * n)
        for r in 0..<k { for c in 0..<n { centered[r * n + c] = Double(features[r, c]) - mean[c] } }
        var covariance = [Double](repeating: 0, count: n * n)
        cblas_dgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(n), Int32(k),
            1 / Double(k - 1), centered, Int32(n), centered, Int32(n), 0, &covariance, Int32(n))
        return Statistics(mean: mean, covariance: covariance, count: k)
    }

    /// Nil when an eigensolver fails (non-finite input).
    public static func distance(_ a: Statistics, _ b: Statistics) -> Double? {
        precondition(a.dim == b.dim, "feature widths differ: \(a.dim) vs \(b.dim)")
        let n = a.dim
        var meanTerm = 0.0
        for c in 0..<n { meanTerm += (a.mean[c] - b.mean[c]) * (a.mean[c] - b.mean[c]) }
        var traces = 0.0
        for i in 0..<n { traces += a.covariance[i * n + i] + b.covariance[i * n + i] }
        guard let rootA = squareRoot(a.covariance, n) else { return nil }
        let m = product(product(rootA, b.covariance, n), rootA, n)
        guard let (values, _) = eigen(m, n, vectors: false) else { return nil }
        let crossTrace = values.reduce(0) { $0 + max($1, 0).squareRoot() }
        return max(0, meanTerm + traces - 2 * crossTrace)
    }

    public static func distance(_ a: Matrix, _ b: Matrix) -> Double? {
        distance(statistics(a), statistics(b))
    }

    /// S^½ of a symmetric positive semi-definite matrix (negative eigenvalues from round-off taken
    /// as 0).
    static func squareRoot(_ s: [Double], _ n: Int) -> [Double]? {
        guard let (values, vectors) = eigen(s, n, vectors: true) else { return nil }
        // V·diag(√λ)·Vᵀ: scale V's columns, then multiply by Vᵀ.
        var scaled = vectors
        for i in 0..<n { for j in 0..<n { scaled[i * n + j] *= max(values[j], 0).squareRoot() } }
        var out = [Double](repeating: 0, count: n * n)
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(n),
            1, scaled, Int32(n), vectors, Int32(n), 0, &out, Int32(n))
        return out
    }

    static func product(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n),
            1, a, Int32(n), b, Int32(n), 0, &out, Int32(n))
        return out
    }

    /// Eigenvalues (ascending) and, when asked, eigenvectors (columns, row-major) of a symmetric
    /// matrix.
    static func eigen(_ s: [Double], _ n: Int, vectors: Bool) -> ([Double], [Double])? {
        guard s.allSatisfy({ $0.isFinite }) else { return nil }
        // Symmetrise first: products of symmetric matrices drift apart in the last bits.
        var a = s
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                let m = (a[i * n + j] + a[j * n + i]) / 2
                a[i * n + j] = m
                a[j * n + i] = m
            }
        }
        var w = [Double](repeating: 0, count: n)
        let job = Int8(UInt8(ascii: vectors ? "V" : "N"))
        let info = LAPACKE_dsyevd(
            LAPACK_ROW_MAJOR, job, Int8(UInt8(ascii: "U")), Int32(n), &a, Int32(n), &w)
        return info == 0 ? (w, a) : nil
    }
}
