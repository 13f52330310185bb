import KernelInterface

/// C[m×n] ← A·B (+ C) on this thread for n in multiples of 32: a block of up to
/// `RegisterBlocks.widest` rows of C, one pass of columns wide, stays in registers while k streams
/// past — B's rows read in place, A's values broadcast. It serves the layers' products when each
/// thread multiplies its own rows (OpenBLAS single-threaded): on these shapes (k and n of a few
/// hundred) it skips the packing OpenBLAS does on every call.
enum VectorGemm {
    static let lanes = 32

    /// C[i, j] = Σ_k A(i, k)·B[k·ldb + j] + bias[j] (+ C[i, j] when `accumulate`), C with row
    /// stride ldc.
    static func multiply(
        m: Int, n: Int, k: Int, a: StridedMatrix, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        precondition(n % lanes == 0, "VectorGemm needs n in multiples of 32")
        guard m > 0 else { return }
        let rowBlocks = RegisterBlocks.cover(m)
        for j in stride(from: 0, to: n, by: RegisterBlocks.passLanes) {
            var i = 0
            for rows in rowBlocks {
                let tile = Tile(
                    a: a.base + i * a.rowStride, rowStride: a.rowStride,
                    columnStride: a.columnStride,
                    b: b + j, ldb: ldb, k: k, c: c + i * ldc + j, ldc: ldc, accumulate: accumulate,
                    bias: bias.map { $0 + j })
                RegisterBlocks.run(TileKernel(tile: tile), size: rows)
                i += rows
            }
        }
    }

    /// Up to `RegisterBlocks.widest` rows of C and 32 columns.
    struct Tile {
        let a: UnsafePointer<Float>, rowStride: Int, columnStride: Int
        let b: UnsafePointer<Float>, ldb: Int, k: Int
        let c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?
    }

    @inline(__always)
    static func block<let P: Int>(_: Block<P>, _ t: Tile) {
        let h = Half.scalarCount
        var sums = Accumulators<P>(
            lo: t.bias.map { $0.load(Half.self, at: 0) } ?? .zero,
            hi: t.bias.map { $0.load(Half.self, at: h) } ?? .zero)
        if t.accumulate {
            sums.each { p, lo, hi in
                lo += t.c.load(Half.self, at: p * t.ldc)
                hi += t.c.load(Half.self, at: p * t.ldc + h)
            }
        }
        for kk in 0..<t.k {
            let row = t.b + kk * t.ldb
            let b0 = row.load(Half.self, at: 0)
            let b1 = row.load(Half.self, at: h)
            let a = t.a + kk * t.columnStride
            sums.each { p, lo, hi in
                let v = Half(repeating: a[p &* t.rowStride])
                lo = VectorMath.multiplyAdd(b0, v, lo)
                hi = VectorMath.multiplyAdd(b1, v, hi)
            }
        }
        sums.each { p, lo, hi in
            t.c.store(lo, at: p * t.ldc)
            t.c.store(hi, at: p * t.ldc + h)
        }
    }

    struct TileKernel: BlockKernel {
        let tile: Tile
        func callAsFunction<let P: Int>(_ b: Block<P>) { VectorGemm.block(b, tile) }
    }
}
