import Foundation

/// Fused element-wise passes and row reductions over row-major B×C blocks.
public enum Kernels {
    @inline(__always)
    public static func sigmoid(_ z: Float) -> Float { 1 / (1 + expf(-z)) }

    @inline(__always)
    public static func silu(_ z: Float) -> Float { z / (1 + expf(-z)) }

    /// d silu(z) / dz.
    @inline(__always)
    public static func siluDerivative(_ z: Float) -> Float {
        let s = sigmoid(z)
        return s * (1 + z * (1 - s))
    }

    /// out ← silu(z), element-wise over `count` values.
    public static func silu(_ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            out.store(VectorMath.silu(z.vec(i)), at: i)
            i += 8
        }
        while i < count { out[i] = silu(z[i]); i += 1 }
    }

    /// gradZ ← gradOut ⊙ silu'(z).
    public static func siluBackward(
        _ z: UnsafePointer<Float>, _ gradOut: UnsafePointer<Float>,
        _ gradZ: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 8 <= count {
            gradZ.store(gradOut.vec(i) * VectorMath.siluDerivative(z.vec(i)), at: i)
            i += 8
        }
        while i < count { gradZ[i] = gradOut[i] * siluDerivative(z[i]); i += 1 }
    }

    /// Every row of y[rows×cols] ← bias (+ y when `accumulate`).
    public static func broadcastRows(
        _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int, accumulate: Bool
    ) {
        for r in 0..<rows {
            let row = y + r * cols
            if accumulate {
                add(bias, into: row, count: cols)
            } else {
                row.update(from: bias, count: cols)
            }
        }
    }

    /// out[c] ← Σ_r x[r, c] (the bias gradient of a batch).
    public static func columnSums(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>
    ) {
        out.update(repeating: 0, count: cols)
        for r in 0..<rows { add(x + r * cols, into: out, count: cols) }
    }

    /// y ← y + x over `count` values.
    @inline(__always)
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            y.store(y.vec(i) + x.vec(i), at: i)
            i += 8
        }
        while i < count { y[i] += x[i]; i += 1 }
    }

    /// Σ x over `count` values, eight partial sums at a time.
    @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = Vec8(), i = 0
        while i + 8 <= count { acc += x.vec(i); i += 8 }
        var s = acc.sum()
        while i < count { s += x[i]; i += 1 }
        return s
    }

    /// Squared Euclidean norm of each row.
    public static func rowSquaredNorms(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r * cols
            var s: Float = 0
            for c in 0..<cols { s += row[c] * row[c] }
            out[r] = s
        }
    }
}
