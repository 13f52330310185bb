import Engine
import Foundation
import Testing

/// Hostile files, absurd sizes and special files against the real binary: each ends in a one-line
/// refusal (or a clean result), never a crash, a hang or a blown memory bound. Commands run under
/// `timeout` where they used to hang, and under `ulimit -v` where they used to exhaust memory.
@Suite(.serialized) struct HostileInputTests {
    /// pfgm with a time limit (s) and an address-space limit (KiB).
    func bounded(
        _ arguments: [String], in dir: String, seconds: Int = 20, memoryKiB: Int = 4_000_000
    )
        -> Binary.Result
    {
        Binary.runBounded(arguments, in: dir, seconds: seconds, memoryKiB: memoryKiB)
    }

    func expectClean(
        _ r: Binary.Result, mentions: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            (1...2).contains(r.status), "exit \(r.status): \(r.stderr)",
            sourceLocation: sourceLocation)
        #expect(
            r.errorLines.count == 1 && r.stderr.contains(mentions), "stderr: \(r.stderr)",
            sourceLocation: sourceLocation)
    }

    /// Defect 1: D = 1e-10 made the kernel's radius draw loop forever, deaf to signals.
    @Test func tinyDIsRefusedAndTheSmallestDTrainsAndDraws() {
        let dir = scratchDirectory()
        expectClean(
            bounded(
                [
                    "train", "--data", "checkerboard", "--aug-dim", "1e-10", "--steps", "20",
                    "--out", "x1",
                ],
                in: dir), mentions: "≥ 0.1")
        expectClean(
            bounded(
                [
                    "sweep", "--data", "checkerboard", "--aug-dims", "1e-10", "--steps", "5",
                    "--out", "s",
                ],
                in: dir), mentions: "aug-dims")
        expectClean(
            bounded(
                [
                    "train", "--data", "checkerboard", "--aug-dim", "0.01..8", "--steps", "5",
                    "--out", "x",
                ],
                in: dir), mentions: "0.1 ≤ LO")
        let prior = bounded(
            [
                "prior", "--dim", "2", "--aug-dim", "0.1", "--sigma", "80", "--count", "2000",
                "--kernel-quantile", "0.97", "--out", "p.npy",
            ], in: dir)
        #expect(prior.status == 0, "\(prior.stderr)")
        let train = bounded(
            [
                "train", "--data", "checkerboard", "--aug-dim", "0.1", "--steps", "20", "--width",
                "32",
                "--out", "small",
            ], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
    }

    /// Defects 6–8: a gzip bomb, a file far larger than its header claims, FIFOs.
    @Test func bombsHugeFilesAndFIFOsAreRefusedBeforeAnyReading() throws {
        let dir = scratchDirectory()
        // IDX header (unsigned bytes, rank 3): 2,700,000 × 28 × 28, then 2 MB of zeros, gzipped.
        let header: [UInt8] =
            [0, 0, 8, 3]
            + [2_700_000, 28, 28].flatMap { (d: Int) -> [UInt8] in
                (0..<4).map { UInt8(truncatingIfNeeded: d >> (8 * (3 - $0))) }
            }
        let gzip = Binary.run(
            ["-c", "gzip -c > bomb.gz"], in: dir, executable: "/bin/sh",
            input: Data(header + [UInt8](repeating: 0, count: 2 << 20)))
        #expect(gzip.status == 0)
        expectClean(
            bounded(["data", "--data", "bomb.gz"], in: dir, memoryKiB: 1_000_000),
            mentions: "more than")
        #expect(
            Binary.run(
                ["-c", "truncate -s 16G big.npy && truncate -s 3G zeros.npy"], in: dir,
                executable: "/bin/sh"
            ).status == 0)
        expectClean(
            bounded(["data", "--data", "big.npy"], in: dir, memoryKiB: 1_000_000),
            mentions: "more than")
        expectClean(
            bounded(["data", "--data", "zeros.npy"], in: dir, memoryKiB: 1_000_000),
            mentions: "bad magic")
        for name in ["f.npy", "f.gz", "l.npy"] { #expect(mkfifo("\(dir)/\(name)", 0o644) == 0) }
        expectClean(bounded(["data", "--data", "f.npy"], in: dir, seconds: 10), mentions: "FIFO")
        expectClean(bounded(["data", "--data", "f.gz"], in: dir, seconds: 10), mentions: "FIFO")
        expectClean(
            bounded(
                [
                    "sample", "--oracle", "f.npy", "--aug-dim", "2", "--count", "3", "--out",
                    "o.npy",
                ], in: dir,
                seconds: 10), mentions: "FIFO")
        try FileManager.default.createDirectory(
            atPath: "\(dir)/folder.npy", withIntermediateDirectories: true)
        expectClean(
            bounded(["data", "--data", "folder.npy"], in: dir, seconds: 10), mentions: "directory")
    }

    /// A small trained run to tamper with.
    func trainedRun(in dir: String, name: String = "run", data: String = "moons") -> Bool {
        Binary.run(
            ["train", "--data", data, "--aug-dim", "8", "--steps", "5", "--out", name]
                + CommandTests.tiny,
            in: dir
        ).status == 0
    }

    /// Sets `key` in a run's config.json to a JSON literal.
    func edit(_ dir: String, _ key: String, _ literal: String, run: String = "run") throws {
        let path = "\(dir)/\(run)/config.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let pattern = "\"\(key)\" : [^,\n]*"
        text = text.replacingOccurrences(
            of: pattern, with: "\"\(key)\" : \(literal)", options: .regularExpression)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Defects 3 and 4: sizes from a config or a flag used to allocate before anything was checked.
    @Test func absurdSizesAreRefusedBeforeAnyAllocation() throws {
        let dir = scratchDirectory()
        #expect(trainedRun(in: dir))
        let sample = ["sample", "--ckpt", "run", "--count", "10", "--out", "x.npy"]
        for (key, value, says) in [
            ("width", "65536", "parameters"), ("embedding_channels", "1000000000", "too large"),
            ("width", "64", "weights"), ("sigma_data", "1e308", "sigma_data"),
        ] {
            try edit(dir, key, value)
            expectClean(bounded(sample, in: dir, memoryKiB: 2_000_000), mentions: says)
            #expect(!exists("\(dir)/x.npy"))
            try edit(dir, "width", "32")
            try edit(dir, "embedding_channels", "128")
            try edit(dir, "sigma_data", "1.4")
        }
        expectClean(
            bounded(
                [
                    "train", "--data", "moons", "--aug-dim", "8", "--width", "65536", "--depth",
                    "1",
                    "--steps", "5", "--out", "wide",
                ], in: dir, memoryKiB: 2_000_000), mentions: "parameters")
        for steps in ["1000000000000", "9223372036854775807"] {
            expectClean(bounded(sample + ["--steps", steps], in: dir), mentions: "steps")
            expectClean(
                bounded(["eval", "--ckpt", "run", "--count", "10", "--steps", steps], in: dir),
                mentions: "steps")
            expectClean(
                bounded(["fit", "--ckpt", "run", "--trajectory", "--steps", steps], in: dir),
                mentions: "steps")
        }
        expectClean(bounded(sample + ["--sigma-max", "1e300"], in: dir), mentions: "sigma-max")
    }

    /// Defect 5: ten million samples used to be held at once (5.7 GB, then an abort); now chunks
    /// stream out.
    @Test func theLargestCountSamplesInBoundedMemory() throws {
        let dir = scratchDirectory()
        #expect(trainedRun(in: dir))
        let r = bounded(
            [
                "sample", "--ckpt", "run", "--count", "\(Limits.samples)", "--steps", "1",
                "--solver", "euler",
                "--out", "x.npy", "--threads", "2",
            ], in: dir, seconds: 300, memoryKiB: 1_500_000)
        #expect(r.status == 0, "\(r.stderr)")
        let header = try SafeArrayHeader(path: "\(dir)/x.npy")
        #expect(header.size == 128 + Limits.samples * 2 * 4)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Defects 10–12: only regular files are replaced, a failed command leaves none of its outputs,
    /// and temporaries of a killed process are swept.
    @Test func outputsAreRegularFilesWrittenWholeOrNotAtAll() throws {
        let dir = scratchDirectory()
        #expect(trainedRun(in: dir))
        #expect(mknod("\(dir)/myfull", S_IFCHR | 0o666, dev_t((1 << 8) | 7)) == 0)
        expectClean(
            bounded(["sample", "--ckpt", "run", "--count", "10", "--out", "myfull"], in: dir),
            mentions: "device")
        var info = stat()
        #expect(
            stat("\(dir)/myfull", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR,
            "the device node was replaced")
        try FileManager.default.createDirectory(
            atPath: "\(dir)/out/adir", withIntermediateDirectories: true)
        expectClean(
            bounded(
                [
                    "sample", "--ckpt", "run", "--count", "10", "--out", "out/pd.npy", "--png",
                    "out/adir",
                ],
                in: dir), mentions: "directory")
        #expect(!exists("\(dir)/out/pd.npy"), "the .npy of a failed command was kept")
        // A link to a regular file is written through; the link stays.
        #expect(symlink("\(dir)/target.npy", "\(dir)/link.npy") == 0)
        #expect(
            bounded(["sample", "--ckpt", "run", "--count", "10", "--out", "link.npy"], in: dir)
                .status == 0)
        #expect(
            exists("\(dir)/target.npy")
                && (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/link.npy"))
                    != nil
        )
        // A temporary a killed writer left (pid 2³¹ − 2 cannot run), and one of a live process
        // (ours), which stays.
        let stale = "\(dir)/x.npy.tmp-2147483646-12345"
        let live = "\(dir)/x.npy.tmp-\(getpid())-777"
        for path in [stale, live] {
            #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 8 << 20)))
        }
        #expect(
            bounded(["sample", "--ckpt", "run", "--count", "10", "--out", "x.npy"], in: dir).status
                == 0)
        #expect(
            !exists(stale) && exists(live), "stale temporaries were not swept (or a live one was)")
    }

    /// Defect 9: a run (or a sweep's model) killed before its first save could neither resume nor
    /// restart.
    @Test func aRunKilledBeforeItsFirstSaveResumesFromStepZero() throws {
        let dir = scratchDirectory()
        let train = try Binary.launch(
            [
                "train", "--data", "moons", "--aug-dim", "8", "--steps", "1000000", "--save-every",
                "1000000", "--out", "run",
            ] + CommandTests.tiny, in: dir)
        #expect(waitUntil(20) { exists("\(dir)/run/config.json") })
        kill(train.processIdentifier, SIGKILL)
        train.waitUntilExit()
        #expect(!exists("\(dir)/run/checkpoint.safetensors"))
        expectClean(
            bounded(
                ["train", "--data", "moons", "--aug-dim", "8", "--steps", "5", "--out", "run"],
                in: dir),
            mentions: "--resume run (from step 0)")
        let resumed = bounded(["train", "--resume", "run", "--steps", "5"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(exists("\(dir)/run/checkpoint.safetensors"))

        let sweep = [
            "sweep", "--data", "moons", "--aug-dims", "8", "--steps", "40", "--seeds", "1",
            "--alphas", "",
            "--bits", "", "--nfe", "3", "--count", "50", "--width", "16", "--depth", "1", "--out",
            "sw",
        ]
        let first = try Binary.launch(sweep, in: dir)
        #expect(
            waitUntil(20) {
                exists("\(dir)/sw/models")
                    && ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/sw/models"))
                        ?? []).contains { name in
                            exists("\(dir)/sw/models/\(name)/config.json")
                        }
            })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // As if killed before the model's first save, whenever the kill landed.
        for model in (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/sw/models"))
            ?? []
        {
            for file in ["checkpoint.safetensors", "optimizer.safetensors"] {
                try? FileManager.default.removeItem(atPath: "\(dir)/sw/models/\(model)/\(file)")
            }
        }
        let again = bounded(sweep, in: dir, seconds: 120)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(exists("\(dir)/sw/report.md"))
    }

    /// Defect 13: messages say what is really wrong, and non-finite output is a failure.
    @Test func messagesNameTheRealProblem() throws {
        let dir = scratchDirectory()
        #expect(trainedRun(in: dir))
        try NPY.write(NPY.Array(shape: [5, 0], values: []), to: "\(dir)/empty.npy")
        expectClean(bounded(["data", "--data", "empty.npy"], in: dir), mentions: "no coordinates")
        try NPY.write(
            Matrix(rows: 3, cols: 2, storage: [0, 1, 2, .nan, 4, 5]), to: "\(dir)/nan.npy")
        expectClean(
            bounded(
                ["sample", "--ckpt", "run", "--latents", "nan.npy", "--out", "l.npy"], in: dir),
            mentions: "row 1")
        expectClean(
            bounded(
                [
                    "denoise", "--ckpt", "run", "--input", "nan.npy", "--sigma", "1", "--out",
                    "d.npy",
                ], in: dir),
            mentions: "row 1")
        for (key, value, says) in [("seed", "-1", "seed"), ("width", "32.5", "width")] {
            try edit(dir, key, value)
            expectClean(
                bounded(["sample", "--ckpt", "run", "--count", "3", "--out", "c.npy"], in: dir),
                mentions: says)
            try edit(dir, "seed", "0")
            try edit(dir, "width", "32")
        }
        for file in ["l.npy", "d.npy", "c.npy"] { #expect(!exists("\(dir)/\(file)")) }
    }
}

/// The size of a file, for checks that must not read a large one.
struct SafeArrayHeader {
    let size: Int
    init(path: String) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    }
}
