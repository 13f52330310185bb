import KernelInterface

/// Fused element-wise passes and row reductions over row-major B×C blocks, run by the CPU's kernel
/// variant (`CPU.kernels`).
public enum Kernels {
    /// out ← silu(z), element-wise over `count` values.
    public static func silu(
        _ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int
    ) {
        CPU.kernels.silu(z, out, count: count)
    }

    /// gradZ ← gradOut ⊙ silu'(z).
    public static func siluBackward(
        _ z: UnsafePointer<Float>, _ gradOut: UnsafePointer<Float>,
        _ gradZ: UnsafeMutablePointer<Float>, count: Int
    ) {
        CPU.kernels.siluBackward(z, gradOut, gradZ, count: count)
    }

    /// Every row of y[rows×cols] ← bias (+ y when `accumulate`).
    public static func broadcastRows(
        _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int, accumulate: Bool
    ) {
        CPU.kernels.broadcastRows(bias, y, rows: rows, cols: cols, accumulate: accumulate)
    }

    /// out[c] ← Σ_r x[r, c] (the bias gradient of a batch).
    public static func columnSums(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        CPU.kernels.columnSums(x, rows: rows, cols: cols, into: out)
    }

    /// y ← y + x over `count` values.
    public static func add(
        _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        CPU.kernels.add(x, into: y, count: count)
    }

    /// Squared Euclidean norm of each row.
    public static func rowSquaredNorms(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        CPU.kernels.rowSquaredNorms(x, rows: rows, cols: cols, into: out)
    }
}

/// C[m×n] ← A·B (+ C) on this thread, by the CPU's kernel variant: a block of rows of C, a pass
/// of columns wide, stays in registers while k streams past, over B packed in panels a chunk of k
/// at a time. It serves the layers' products when each thread multiplies its own rows (OpenBLAS
/// single-threaded): on these shapes (a few dozen to a few hundred rows) sgemm's packing of
/// whole operands and its call costs weigh.
public enum VectorGemm {
    public typealias Strided = StridedMatrix

    public static func supports(n: Int) -> Bool { n > 0 && n % 32 == 0 }

    /// C[i, j] = Σ_k A(i, k)·B[k·ldb + j] + bias[j] (+ C[i, j] when `accumulate`), C with row
    /// stride ldc, n a multiple of 32.
    public static func multiply(
        m: Int, n: Int, k: Int, a: Strided, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
        bias: UnsafePointer<Float>? = nil
    ) {
        multiply(
            m: m, n: n, k: k, a: a, b: Strided(b, rowStride: ldb, columnStride: 1), c: c, ldc: ldc,
            accumulate: accumulate, bias: bias)
    }

    /// The same with B read element by element (B(k, j) = b[k·rowStride + j·columnStride]), as
    /// the kernel copies it into panels anyway: Wᵀ without a transposed copy.
    public static func multiply(
        m: Int, n: Int, k: Int, a: Strided, b: Strided, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, bias: UnsafePointer<Float>? = nil
    ) {
        precondition(supports(n: n), "VectorGemm needs n in multiples of 32")
        CPU.kernels.vectorGemm(
            m: m, n: n, k: k, a: a, b: b, c: ProductOutput(c, ldc: ldc), accumulate: accumulate,
            bias: bias)
    }

    /// Cᵀ[j·ldc + i] = Σ_k A(i, k)·B(k, j) (+ Cᵀ when `accumulate`), for any n: the layers'
    /// forward product yᵀ = W·xᵀ, whose weights are then read in place.
    public static func multiplyTransposed(
        m: Int, n: Int, k: Int, a: Strided, b: Strided, cTransposed: UnsafeMutablePointer<Float>,
        ldc: Int, accumulate: Bool
    ) {
        CPU.kernels.vectorGemm(
            m: m, n: n, k: k, a: a, b: b, c: ProductOutput(cTransposed, ldc: ldc, transposed: true),
            accumulate: accumulate, bias: nil)
    }
}
