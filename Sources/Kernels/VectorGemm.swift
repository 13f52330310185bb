import KernelInterface

/// C(i, j) = Σ_k A(i, k)·B(k, j) (+ C) on this thread: a block of up to `RegisterBlocks.widest`
/// rows of C, one pass of columns wide, stays in registers while k streams past, B's values
/// loaded as vectors and A's broadcast. It serves the layers' products when each thread multiplies
/// its own rows (OpenBLAS single-threaded).
///
/// Beyond one block of rows (or with B read across its rows), k is taken in chunks of `chunk`: the
/// chunk's rows of B are copied into contiguous 32-column panels, and A too when it is read down
/// its columns. Read in place, rows of B (or columns of A) a layer's width apart fall into the same
/// few cache sets, and the kernel waited on L2 for every load. Rows of C go in groups of
/// `groupRows`, so a panel stays in L1 while the group's blocks of rows pass over it.
enum VectorGemm {
    static let lanes = 32
    /// Rows of B in one chunk: a panel of 128 × 32 floats fills half of a 32 KiB L1 data cache.
    static let chunk = 128
    /// Rows of C that share a panel: their chunk of A (48–64 KiB) stays in L2.
    static let groupRows = 16 * RegisterBlocks.widest

    /// One product's operands.
    struct Product {
        let m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: ProductOutput
        let accumulate: Bool, bias: UnsafePointer<Float>?
    }

    static func multiply(_ p: Product) {
        precondition(
            p.c.transposed ? p.bias == nil : p.n % lanes == 0,
            "VectorGemm needs n in multiples of 32, or C transposed without a bias")
        guard p.m > 0, p.n > 0 else { return }
        if p.c.transposed { return transposed(p) }
        if p.m <= RegisterBlocks.widest && p.b.columnStride == 1 { return direct(p) }
        packed(p)
    }

    /// B's chunks in panels (zeros past n; C then needs room for n rounded up to 32), A's chunks
    /// too when read down its columns.
    static func packed(_ p: Product) {
        let panelCount = (p.n + lanes - 1) / lanes
        let chunkRows = max(1, min(p.k, chunk))
        let panels = UnsafeMutablePointer<Float>.allocate(capacity: panelCount * chunkRows * lanes)
        defer { panels.deallocate() }
        let packA = p.a.columnStride != 1
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: packA ? p.m * chunkRows : 0)
        defer { packedA.deallocate() }
        for k0 in stride(from: 0, to: max(p.k, 1), by: chunk) {
            let rows = k0..<min(p.k, k0 + chunk)
            let a =
                packA
                ? pack(p.a, rows: p.m, columns: rows, into: packedA)
                : .strided(StridedMatrix(p.a.base + k0, rowStride: p.a.rowStride, columnStride: 1))
            for g0 in stride(from: 0, to: p.m, by: groupRows) {
                for q in 0..<panelCount {
                    // Packed as the first group reaches it, so it is in L1 when first read.
                    let panel = panels + q * rows.count * lanes
                    if g0 == 0 { pack(p.b, n: p.n, rows: rows, panel: q, into: panel) }
                    p.pass(
                        rows: g0..<min(p.m, g0 + groupRows), columns: q * lanes, k: rows.count,
                        a: a, b: StridedMatrix(panel, rowStride: lanes, columnStride: 1),
                        first: k0 == 0)
                }
            }
        }
    }

    /// C written transposed: the product runs into a row-major copy, n padded to 32 (B's columns
    /// past n are zeros), which is then added or copied across.
    static func transposed(_ p: Product) {
        let padded = (p.n + lanes - 1) / lanes * lanes
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: p.m * padded)
        defer { copy.deallocate() }
        packed(
            Product(
                m: p.m, n: p.n, k: p.k, a: p.a, b: p.b, c: ProductOutput(copy, ldc: padded),
                accumulate: false, bias: nil))
        for j in 0..<p.n {
            let row = p.c.base + j * p.c.ldc
            if p.accumulate {
                for i in 0..<p.m { row[i] += copy[i &* padded &+ j] }
            } else {
                for i in 0..<p.m { row[i] = copy[i &* padded &+ j] }
            }
        }
    }

    /// A few rows of C, A and B read in place.
    static func direct(_ p: Product) {
        for j in stride(from: 0, to: p.n, by: lanes) {
            let b = StridedMatrix(p.b.base + j, rowStride: p.b.rowStride, columnStride: 1)
            p.pass(rows: 0..<p.m, columns: j, k: p.k, a: .strided(p.a), b: b, first: true)
        }
    }

    /// out[kk·32 + l] ← B(k0 + kk, 32q + l), zeros past n: one panel of the chunk, contiguous.
    static func pack(
        _ b: StridedMatrix, n: Int, rows: Range<Int>, panel q: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        let j = q * lanes
        if b.columnStride == 1 && j + lanes <= n {
            let h = Half.scalarCount
            for (kk, row) in rows.enumerated() {
                let source = b.base + row * b.rowStride + j
                for l in stride(from: 0, to: lanes, by: h) {
                    (out + kk * lanes).store(source.load(Half.self, at: l), at: l)
                }
            }
            return
        }
        for l in 0..<lanes {
            guard j + l < n else {
                for kk in 0..<rows.count { out[kk &* lanes &+ l] = 0 }
                continue
            }
            let source = b.base + (j + l) * b.columnStride + rows.lowerBound * b.rowStride
            for kk in 0..<rows.count { out[kk &* lanes &+ l] = source[kk &* b.rowStride] }
        }
    }

    /// A's `columns` for all its rows, block of rows by block as the passes take them, each block
    /// contiguous (`Left.blocked`).
    static func pack(
        _ a: StridedMatrix, rows m: Int, columns: Range<Int>, into out: UnsafeMutablePointer<Float>
    ) -> Left {
        let k = columns.count
        for g0 in stride(from: 0, to: m, by: groupRows) {
            var i = g0
            for count in RegisterBlocks.cover(min(groupRows, m - g0)) {
                let block = out + i * k
                for (kk, column) in columns.enumerated() {
                    let source = a.base + column * a.columnStride + i * a.rowStride
                    for r in 0..<count { block[kk &* count &+ r] = source[r &* a.rowStride] }
                }
                i += count
            }
        }
        return .blocked(out, k: k)
    }

    /// A as the tiles read it: in place, or packed by `pack` (the block of P rows at row i starts
    /// at i·k, A(i + r, kk) at kk·P + r).
    enum Left {
        case strided(StridedMatrix)
        case blocked(UnsafePointer<Float>, k: Int)

        func block(at i: Int, rows count: Int) -> StridedMatrix {
            switch self {
            case .strided(let a):
                StridedMatrix(
                    a.base + i * a.rowStride, rowStride: a.rowStride, columnStride: a.columnStride)
            case .blocked(let base, let k):
                StridedMatrix(base + i * k, rowStride: 1, columnStride: count)
            }
        }
    }

    /// Up to `RegisterBlocks.widest` rows of C and one pass of columns.
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
            let row = t.b + kk &* t.ldb
            let b0 = row.load(Half.self, at: 0)
            let b1 = row.load(Half.self, at: h)
            let a = t.a + kk &* t.columnStride
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

extension VectorGemm.Product {
    /// C's `rows` and columns j..<j+32 from k rows of B (B(kk, l) at b[kk·rowStride + l]), block
    /// by block of rows. The first chunk of k adds the bias, and C when `accumulate`; later chunks
    /// add C.
    func pass(
        rows: Range<Int>, columns j: Int, k: Int, a: VectorGemm.Left, b: StridedMatrix,
        first: Bool
    ) {
        for half in stride(from: 0, to: VectorGemm.lanes, by: RegisterBlocks.passLanes) {
            let column = j + half
            var i = rows.lowerBound
            for count in RegisterBlocks.cover(rows.count) {
                let block = a.block(at: i, rows: count)
                let tile = VectorGemm.Tile(
                    a: block.base, rowStride: block.rowStride, columnStride: block.columnStride,
                    b: b.base + half, ldb: b.rowStride, k: k, c: c.base + i * c.ldc + column,
                    ldc: c.ldc, accumulate: accumulate || !first,
                    bias: first ? bias.map { $0 + column } : nil)
                RegisterBlocks.run(VectorGemm.TileKernel(tile: tile), size: count)
                i += count
            }
        }
    }
}
