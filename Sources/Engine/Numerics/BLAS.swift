import CBLAS

/// Matrix products and thread control, all through OpenBLAS.
public enum BLAS {
    /// Sets how many threads OpenBLAS uses for each call.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// C ← α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ. C must already have the result's shape.
    public static func gemm(
        _ a: Matrix, transposeA: Bool = false,
        _ b: Matrix, transposeB: Bool = false,
        into c: inout Matrix, alpha: Float = 1, beta: Float = 0
    ) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm inner dimensions differ: \(k) vs \(kb)")
        precondition(
            c.rows == m && c.cols == n, "gemm output is \(c.rows)×\(c.cols), expected \(m)×\(n)")
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    gemm(
                        m: m, n: n, k: k,
                        a: pa.baseAddress, lda: a.cols, transposeA: transposeA,
                        b: pb.baseAddress, ldb: b.cols, transposeB: transposeB,
                        c: pc.baseAddress, ldc: n, alpha: alpha, beta: beta)
                }
            }
        }
    }

    /// Raw row-major sgemm on pointers: C[m×n] ← α·op(A)·op(B) + β·C.
    public static func gemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>?, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>?, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>?, ldc: Int, alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(max(1, lda)), b, Int32(max(1, ldb)), beta, c, Int32(max(1, ldc)))
    }

    /// Eigenvalues (ascending) and eigenvectors (columns of the returned row-major matrix) of a
    /// symmetric matrix.
    public static func symmetricEigen(_ s: Matrix) -> (values: [Float], vectors: Matrix)? {
        precondition(s.rows == s.cols, "symmetricEigen needs a square matrix")
        let n = s.rows
        var a = s
        var w = [Float](repeating: 0, count: n)
        let info = a.storage.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in
                LAPACKE_ssyevd(
                    LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
                    Int32(n), pa.baseAddress, Int32(n), pw.baseAddress)
            }
        }
        return info == 0 ? (w, a) : nil
    }
}
