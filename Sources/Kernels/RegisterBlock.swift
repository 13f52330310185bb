/// A count known when the code is compiled: how many accumulators a kernel keeps in registers.
struct Block<let count: Int> {}

/// A kernel over a block whose size is a compile-time count, so its accumulators can live in registers.
protocol BlockKernel {
    func callAsFunction<let P: Int>(_ block: Block<P>)
}

enum RegisterBlocks {
    /// Rows (or pixels) a kernel keeps in registers at once, 32 floats each: eight in AVX-512's 32
    /// registers of 16 lanes, three in 16 registers of 8 lanes (AVX2) or in NEON's 32 of 4, and one in
    /// SSE2's 16 of 4, so the accumulators are not spilled.
    #if AVX512
    static let widest = 8
    #elseif FMA || arch(arm64)
    static let widest = 3
    #else
    static let widest = 1
    #endif

    /// Block sizes that cover n items: as few blocks as `widest` allows, their sizes differing by at most one.
    static func cover(_ n: Int) -> [Int] {
        guard n > 0 else { return [] }
        let count = (n + widest - 1) / widest, base = n / count, larger = n % count
        return (0..<count).map { $0 < larger ? base + 1 : base }
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
