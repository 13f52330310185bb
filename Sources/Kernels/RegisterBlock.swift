/// A count known when the code is compiled: how many accumulators a kernel keeps in registers.
struct Block<let count: Int> {}

/// A kernel over a block whose size is a compile-time count, so its accumulators can live in
/// registers.
protocol BlockKernel {
    func callAsFunction<let P: Int>(_ block: Block<P>)
}

/// A kernel pass keeps two `Half` vectors per row (or pixel) of its output lanes, which share each
/// broadcast operand; `Narrow` is what narrow kernels sum along the input channels with. Both are
/// as wide as keeps `RegisterBlocks.widest` rows of accumulators and the operands in registers
/// without spilling (AVX-512: 32 registers of 16 lanes; AVX2: 16 of 8; NEON: 32 of 4; SSE2: 16 of
/// 4). A 32-lane output block takes 32 / `RegisterBlocks.passLanes` passes.
#if AVX512
    typealias Half = SIMD16<Float>
    typealias Narrow = SIMD16<Float>
#elseif FMA || arch(arm64)
    typealias Half = SIMD8<Float>
    typealias Narrow = SIMD8<Float>
#else
    typealias Half = SIMD4<Float>
    typealias Narrow = SIMD4<Float>
#endif

enum RegisterBlocks {
    /// Output lanes one pass of a kernel covers: two `Half` vectors.
    static let passLanes = 2 * Half.scalarCount

    /// Rows (or pixels) a kernel keeps in registers at once, two `Half` vectors each: 8 × 2 of
    /// AVX-512's 32 registers, 6 × 2 of AVX2's or SSE2's 16 (and 6 × 4 of NEON's 32), beside the
    /// operands.
    #if AVX512
        static let widest = 8
    #else
        static let widest = 6
    #endif

    /// Block sizes that cover n items: as few blocks as `widest` allows, their sizes differing by
    /// at most one (a value, so the kernels' loops allocate nothing).
    static func cover(_ n: Int) -> Cover { Cover(n: n) }

    struct Cover: Sequence, IteratorProtocol {
        let count: Int, base: Int, larger: Int
        var index = 0

        init(n: Int) {
            count = n > 0 ? (n + RegisterBlocks.widest - 1) / RegisterBlocks.widest : 0
            base = count > 0 ? n / count : 0
            larger = count > 0 ? n % count : 0
        }

        mutating func next() -> Int? {
            guard index < count else { return nil }
            defer { index += 1 }
            return index < larger ? base + 1 : base
        }
    }

    /// Runs `kernel` compiled for a block of `size` (1 through 8; larger sizes run as 8).
    @inline(__always)
    static func run<K: BlockKernel>(_ kernel: K, size: Int) {
        switch size {
        case 1: kernel(Block<1>())
        case 2: kernel(Block<2>())
        case 3: kernel(Block<3>())
        case 4: kernel(Block<4>())
        case 5: kernel(Block<5>())
        case 6: kernel(Block<6>())
        case 7: kernel(Block<7>())
        default: kernel(Block<8>())
        }
    }
}

/// The accumulators of a block of P rows (or pixels), two `Half` vectors each, as named fields:
/// P is known when the code is compiled, so `each` touches only the first P pairs and the rest
/// vanish.
/// (Held in an InlineArray instead, blocks of 3, 5 and 6 rows kept some accumulators on the stack,
/// stored whole and reloaded in pieces at every step; on a Zen 2 core that stalled store forwarding
/// and took half a convolution's time.)
struct Accumulators<let P: Int> {
    var l0, l1, l2, l3, l4, l5, l6, l7: Half
    var h0, h1, h2, h3, h4, h5, h6, h7: Half

    @inline(__always)
    init(lo: Half, hi: Half) {
        (l0, l1, l2, l3, l4, l5, l6, l7) = (lo, lo, lo, lo, lo, lo, lo, lo)
        (h0, h1, h2, h3, h4, h5, h6, h7) = (hi, hi, hi, hi, hi, hi, hi, hi)
    }

    /// body(row, its low vector, its high vector) for each of the P rows, in order.
    @inline(__always)
    mutating func each(_ body: (Int, inout Half, inout Half) -> Void) {
        if P > 0 { body(0, &l0, &h0) }
        if P > 1 { body(1, &l1, &h1) }
        if P > 2 { body(2, &l2, &h2) }
        if P > 3 { body(3, &l3, &h3) }
        if P > 4 { body(4, &l4, &h4) }
        if P > 5 { body(5, &l5, &h5) }
        if P > 6 { body(6, &l6, &h6) }
        if P > 7 { body(7, &l7, &h7) }
    }
}
