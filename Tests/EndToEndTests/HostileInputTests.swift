import Engine
import Foundation
import Testing

/// Hostile files, absurd sizes and special files against the real binary: each ends in a one-line refusal
/// (or a clean result), never a crash, a hang or a blown memory bound. Commands run under `timeout` where
/// they used to hang, and under `ulimit -v` where they used to exhaust memory.
@Suite(.serialized) struct HostileInputTests {
    /// Runs pfgm through `sh` with a time limit (s) and an address-space limit (KiB).
    func bounded(_ arguments: [String], in dir: String, seconds: Int = 20, memoryKiB: Int = 4_000_000)
        -> Binary.Result {
        let quoted = arguments.map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: " ")
        return Binary.run(["-c", "ulimit -v \(memoryKiB); exec timeout -s KILL \(seconds) '\(Binary.path)' \(quoted)"],
                          in: dir, executable: "/bin/sh")
    }

    func expectClean(_ r: Binary.Result, mentions: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect((1...2).contains(r.status), "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.errorLines.count == 1 && r.stderr.contains(mentions), "stderr: \(r.stderr)",
                sourceLocation: sourceLocation)
    }

    /// Defect 1: D = 1e-10 made the kernel's radius draw loop forever, deaf to signals.
    @Test func tinyDIsRefusedAndTheSmallestDTrainsAndDraws() {
        let dir = scratchDirectory()
        expectClean(bounded(["train", "--data", "checkerboard", "--aug-dim", "1e-10", "--steps", "20", "--out", "x1"],
                            in: dir), mentions: "≥ 0.1")
        expectClean(bounded(["sweep", "--data", "checkerboard", "--aug-dims", "1e-10", "--steps", "5", "--out", "s"],
                            in: dir), mentions: "aug-dims")
        expectClean(bounded(["train", "--data", "checkerboard", "--aug-dim", "0.01..8", "--steps", "5", "--out", "x"],
                            in: dir), mentions: "0.1 ≤ LO")
        let prior = bounded(["prior", "--dim", "2", "--aug-dim", "0.1", "--sigma", "80", "--count", "2000",
                             "--kernel-quantile", "0.97", "--out", "p.npy"], in: dir)
        #expect(prior.status == 0, "\(prior.stderr)")
        let train = bounded(["train", "--data", "checkerboard", "--aug-dim", "0.1", "--steps", "20", "--width", "32",
                             "--out", "small"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
    }

    /// Defects 6–8: a gzip bomb, a file far larger than its header claims, FIFOs.
    @Test func bombsHugeFilesAndFIFOsAreRefusedBeforeAnyReading() throws {
        let dir = scratchDirectory()
        // IDX header (unsigned bytes, rank 3): 2,700,000 × 28 × 28, then 2 MB of zeros, gzipped.
        let header: [UInt8] = [0, 0, 8, 3] + [2_700_000, 28, 28].flatMap { (d: Int) -> [UInt8] in
            (0..<4).map { UInt8(truncatingIfNeeded: d >> (8 * (3 - $0))) }
        }
        let gzip = Binary.run(["-c", "gzip -c > bomb.gz"], in: dir, executable: "/bin/sh",
                              input: Data(header + [UInt8](repeating: 0, count: 2 << 20)))
        #expect(gzip.status == 0)
        expectClean(bounded(["data", "--data", "bomb.gz"], in: dir, memoryKiB: 1_000_000), mentions: "more than")
        #expect(Binary.run(["-c", "truncate -s 16G big.npy && truncate -s 3G zeros.npy"], in: dir,
                           executable: "/bin/sh").status == 0)
        expectClean(bounded(["data", "--data", "big.npy"], in: dir, memoryKiB: 1_000_000), mentions: "more than")
        expectClean(bounded(["data", "--data", "zeros.npy"], in: dir, memoryKiB: 1_000_000), mentions: "bad magic")
        for name in ["f.npy", "f.gz", "l.npy"] { #expect(mkfifo("\(dir)/\(name)", 0o644) == 0) }
        expectClean(bounded(["data", "--data", "f.npy"], in: dir, seconds: 10), mentions: "FIFO")
        expectClean(bounded(["data", "--data", "f.gz"], in: dir, seconds: 10), mentions: "FIFO")
        expectClean(bounded(["sample", "--oracle", "f.npy", "--aug-dim", "2", "--count", "3", "--out", "o.npy"], in: dir,
                            seconds: 10), mentions: "FIFO")
        try FileManager.default.createDirectory(atPath: "\(dir)/folder.npy", withIntermediateDirectories: true)
        expectClean(bounded(["data", "--data", "folder.npy"], in: dir, seconds: 10), mentions: "directory")
    }
}
