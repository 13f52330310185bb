import Foundation

/// Fused element-wise passes and row reductions over row-major B×C blocks.
enum Elementwise {
    @inline(__always)
    static func silu(_ z: Float) -> Float { z / (1 + expf(-z)) }

    /// d silu(z) / dz.
    @inline(__always)
    static func siluDerivative(_ z: Float) -> Float {
        let s = 1 / (1 + expf(-z))
        return s * (1 + z * (1 - s))
    }

    /// `vector(i)` for i = 0, 8, 16, … while eight values remain, then `scalar(i)` for the rest.
    @inline(__always)
    static func inEights(_ count: Int, _ vector: (Int) -> Void, _ scalar: (Int) -> Void) {
        var i = 0
        while i + 8 <= count {
            vector(i)
            i += 8
        }
        while i < count {
            scalar(i)
            i += 1
        }
    }

    static func silu(_ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        inEights(
            count, { out.store(VectorMath.silu(z.vec($0)), at: $0) }, { out[$0] = silu(z[$0]) })
    }

    static func siluBackward(
        _ z: UnsafePointer<Float>, _ gradOut: UnsafePointer<Float>,
        _ gradZ: UnsafeMutablePointer<Float>, count: Int
    ) {
        inEights(
            count, { gradZ.store(gradOut.vec($0) * VectorMath.siluDerivative(z.vec($0)), at: $0) },
            { gradZ[$0] = gradOut[$0] * siluDerivative(z[$0]) })
    }

    static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        inEights(count, { out.store(VectorMath.exp(x.vec($0)), at: $0) }, { out[$0] = expf(x[$0]) })
    }

    static func broadcastRows(
        _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        accumulate: Bool
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

    static func columnSums(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>
    ) {
        ColumnSums(x: x, rows: rows, cols: cols, out: out).run()
    }

    /// Column sums with four rows at a time in registers.
    struct ColumnSums: LaneKernel {
        let x: UnsafePointer<Float>, rows: Int, cols: Int, out: UnsafeMutablePointer<Float>

        func vectors<V: FloatVector>(_: V.Type, from c: Int) -> Int {
            var c = c
            while c + V.scalarCount <= cols {
                var s0 = V()
                var s1 = V()
                var s2 = V()
                var s3 = V()
                var r = 0
                while r + 4 <= rows {
                    let row = x + r * cols + c
                    s0 += row.load(V.self, at: 0)
                    s1 += row.load(V.self, at: cols)
                    s2 += row.load(V.self, at: 2 * cols)
                    s3 += row.load(V.self, at: 3 * cols)
                    r += 4
                }
                while r < rows {
                    s0 += x.load(V.self, at: r * cols + c)
                    r += 1
                }
                out.store((s0 + s1) + (s2 + s3), at: c)
                c += V.scalarCount
            }
            return c
        }

        func scalars(from c: Int) {
            for k in c..<cols {
                var s: Float = 0
                for r in 0..<rows { s += x[r * cols + k] }
                out[k] = s
            }
        }
    }

    @inline(__always)
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        inEights(count, { y.store(y.vec($0) + x.vec($0), at: $0) }, { y[$0] += x[$0] })
    }

    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = Vec8()
        var i = 0
        while i + 8 <= count {
            acc += x.vec(i)
            i += 8
        }
        var s = acc.laneSum()
        while i < count {
            s += x[i]
            i += 1
        }
        return s
    }

    static func rowSquaredNorms(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r * cols
            var s: Float = 0
            for c in 0..<cols { s += row[c] * row[c] }
            out[r] = s
        }
    }

    /// Twelve independent chains of a·m + c in the variant's widest registers, `iterations` times:
    /// the multiply-add peak of one core (returns a sum so the work is kept).
    static func fmaPeak(iterations: Int) -> Float {
        var chains = InlineArray<12, Half>(repeating: Half(repeating: 0.5))
        for k in 0..<12 { chains[k] += Half(repeating: Float(k) * 0.01) }
        let m = Half(repeating: 0.999_999)
        let c = Half(repeating: 1e-7)
        for _ in 0..<iterations {
            for k in 0..<12 { chains[k] = VectorMath.multiplyAdd(chains[k], m, c) }
        }
        var total = Half()
        for k in 0..<12 { total += chains[k] }
        return total.laneSum()
    }

    /// Floating-point operations of one `fmaPeak` iteration.
    static var fmaPeakFlops: Int { 12 * 2 * Half.scalarCount }
}
