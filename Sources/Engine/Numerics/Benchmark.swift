import Foundation

/// Wall-clock measurement helpers for `pfgm bench`.
public enum Stopwatch {
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Runs `body` repeatedly for about `seconds` and returns calls per second.
    public static func rate(seconds: Double, _ body: () -> Void) -> Double {
        let start = now()
        var calls = 0
        while true {
            body()
            calls += 1
            let elapsed = now() - start
            if elapsed >= seconds { return Double(calls) / elapsed }
        }
    }

    /// The best rate over `windows` windows of `seconds` each: the machine is shared, so the best
    /// window is the closest to what the code can do.
    public static func bestRate(windows: Int, seconds: Double, _ body: () -> Void) -> Double {
        (0..<max(1, windows)).map { _ in rate(seconds: seconds, body) }.max() ?? 0
    }

    /// The median over `rounds` of the median of `windows` windows of `seconds` each (the protocol
    /// of the PyTorch reference figures; robust to a neighbour's burst in either direction).
    public static func medianRate(rounds: Int, windows: Int, seconds: Double, _ body: () -> Void)
        -> Double
    {
        median(
            (0..<max(1, rounds)).map { _ in
                median((0..<max(1, windows)).map { _ in rate(seconds: seconds, body) })
            })
    }

    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// The multiply-add peak of `threads` cores with the running kernel variant's registers, in
/// GFLOP/s: twelve independent chains per core, so latency hides and only throughput counts (the
/// best of `windows`).
public enum PeakBenchmark {
    public static func gflops(threads: Int, seconds: Double = 0.3, windows: Int = 3) -> Double {
        let iterations = 200_000
        let kernels = CPU.kernels
        let sink = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sink.deallocate() }
        let rate = Stopwatch.bestRate(windows: windows, seconds: seconds) {
            Compute.run(parts: threads) { k in sink[k] = kernels.fmaPeak(iterations: iterations) }
        }
        return rate * Double(threads * iterations * kernels.fmaPeakFlops) / 1e9
    }
}

public enum SgemmBenchmark {
    /// GFLOP/s of an n×n×n float32 sgemm with the given OpenBLAS thread count (restored
    /// afterwards).
    public static func gflops(
        size n: Int = 1024, threads: Int, seconds: Double = 1, windows: Int = 3
    ) -> Double {
        let previous = BLAS.threads
        BLAS.setThreads(threads)
        defer { BLAS.setThreads(previous) }
        var rng = RandomSource(seed: 1)
        let a = Matrix(rows: n, cols: n, storage: (0..<(n * n)).map { _ in Float(rng.uniform()) })
        let b = a
        var c = Matrix(rows: n, cols: n)
        BLAS.gemm(a, b, into: &c)
        let rate = Stopwatch.bestRate(windows: windows, seconds: seconds) {
            BLAS.gemm(a, b, into: &c)
        }
        return rate * 2 * Double(n * n * n) / 1e9
    }
}
