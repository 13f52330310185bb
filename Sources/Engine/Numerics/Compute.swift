import Dispatch
import Synchronization

/// How the engine spreads its work over threads. With `splitBatches` (the default) a batch is cut into one
/// range of rows per thread and each thread calls single-threaded sgemm on its own range, so the element-wise
/// passes run in parallel too and threads meet once per step; otherwise every sgemm call is threaded by OpenBLAS.
public enum Compute {
    private static let state = Mutex((threads: 1, splitBatches: true))

    public static var threads: Int { state.withLock { $0.threads } }
    public static var splitsBatches: Bool { state.withLock { $0.splitBatches && $0.threads > 1 } }

    public static func setThreads(_ count: Int, splitBatches: Bool = true) {
        let n = max(1, count)
        state.withLock { $0 = (n, splitBatches) }
        BLAS.setThreads(splitBatches ? 1 : n)
    }

    /// How many parts to cut `rows` rows into: one per thread (`threads`, else the setting), with at least
    /// `minRows` rows each.
    public static func parts(rows: Int, minRows: Int = 16, threads explicit: Int? = nil) -> Int {
        let n: Int
        if let explicit { n = explicit } else if splitsBatches { n = threads } else { n = 1 }
        return max(1, min(n, rows / max(1, minRows)))
    }

    /// Runs `body(k)` for k in 0..<parts at once, the calling thread taking a share; returns when all are done.
    /// The parts must write disjoint memory: that is the caller's promise, which the compiler cannot check here.
    public static func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { return body(0) }
        withoutActuallyEscaping(body) { escapable in
            let shared = SharedBody(call: escapable)
            DispatchQueue.concurrentPerform(iterations: parts) { shared.call($0) }
        }
    }

    /// Part k of `count` items cut into `parts` nearly equal ranges.
    public static func range(part k: Int, of parts: Int, count: Int) -> Range<Int> {
        (count * k / parts)..<(count * (k + 1) / parts)
    }
}

private struct SharedBody: @unchecked Sendable {
    let call: (Int) -> Void
}
