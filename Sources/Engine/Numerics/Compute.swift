import Dispatch
import Synchronization

/// How the engine spreads its work over threads. With `splitBatches` (the default) a batch with
/// enough rows is cut into one range of rows per thread and each thread calls single-threaded sgemm
/// on its own range, so the element-wise passes run in parallel too and threads meet once per step;
/// work that is not split (few rows for the weights, as when sampling a wide network) has every
/// sgemm call threaded by OpenBLAS instead.
public enum Compute {
    private struct State {
        var threads = 1, splitBatches = true, configured = false, blasThreads = 0
    }
    private static let state = Mutex(State())

    public static var threads: Int { state.withLock { $0.threads } }
    /// Whether a product called now should run on the calling thread: not while OpenBLAS is set to
    /// spread each call over several threads.
    public static var productsOnCallingThread: Bool { state.withLock { $0.blasThreads <= 1 } }
    public static var splitsBatches: Bool { state.withLock { $0.splitBatches && $0.threads > 1 } }

    public static func setThreads(_ count: Int, splitBatches: Bool = true) {
        state.withLock {
            $0 = State(threads: max(1, count), splitBatches: splitBatches, configured: true)
        }
        useBLASThreads(splitBatches ? 1 : max(1, count))
    }

    /// OpenBLAS threads for what runs next: the setting when one part runs, one each when parts
    /// share the cores. Untouched until `setThreads` is called (tests and library use keep
    /// OpenBLAS's own default).
    private static func useBLASThreads(forParts parts: Int) {
        let wanted: Int? = state.withLock { s in
            s.configured && s.splitBatches ? (parts > 1 ? 1 : s.threads) : nil
        }
        if let wanted { useBLASThreads(wanted) }
    }

    private static func useBLASThreads(_ n: Int) {
        let changed = state.withLock { s in
            defer { s.blasThreads = n }
            return s.blasThreads != n
        }
        if changed { BLAS.setThreads(n) }
    }

    /// How many parts to cut `rows` rows into: one per thread (`threads`, else the setting), with
    /// at least `minRows` rows each.
    public static func parts(rows: Int, minRows: Int = 16, threads explicit: Int? = nil) -> Int {
        let n: Int
        if let explicit { n = explicit } else if splitsBatches { n = threads } else { n = 1 }
        return max(1, min(n, rows / max(1, minRows)))
    }

    /// Runs `body(k)` for k in 0..<parts at once, the calling thread taking a share; returns when
    /// all are done. The parts must write disjoint memory: that is the caller's promise, which the
    /// compiler cannot check here.
    public static func run(parts: Int, _ body: (Int) -> Void) {
        useBLASThreads(forParts: parts)
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
