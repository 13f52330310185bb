import Engine
import Foundation
import Testing

/// The binary driven with random and extreme arguments, tampered configs and special files. Seed
/// 2026, 400 runs; each under `ulimit -v` 3 GiB and a 30 s limit (a kill is exit 137). Every run
/// must end in exit 0 or a clean refusal (1 or 2): no signal, no time-out, no memory past the
/// bound.
@Suite(.serialized) struct CommandFuzzTests {
    static let seed: UInt64 = 2026, runs = 400, memoryKiB = 3 << 20, seconds = 30

    let dimensions = [
        "1e-10", "0", "-1", "0.1", "0.0999", "2", "1e308", "inf", "nan", "1..4096,inf", "0.01..1",
        "5..2",
        "abc", "", "8",
    ]
    let steps = [
        "0", "-5", "1", "2", "3", "10001", "1000000000000", "9223372036854775807",
        "99999999999999999999",
        "1e3", "x",
    ]
    let counts = ["0", "-3", "1", "7", "100", "10000001", "18446744073709551616", "y"]
    let values = [
        "65536", "1000000000", "-1", "32.5", "0", "1e308", "\"wide\"", "null", "[1, 2]",
        "{\"a\": {\"b\": 1}}",
        "true", "NaN", "9223372036854775807",
    ]
    let specials = ["fifo", "folder", "null-device", "link-to-fifo", "missing.npy", "points.npy"]

    func pick<T>(_ items: [T], _ rng: inout RandomSource) -> T {
        items[rng.index(below: items.count)]
    }

    /// The valid value most of the time (so whole commands run), else one of the pool's (often
    /// hostile).
    func pick(_ valid: String, or pool: [String], _ rng: inout RandomSource) -> String {
        rng.uniform() < 0.75 ? valid : pick(pool, &rng)
    }

    /// One run under the bounds; its exit status (128 + signal when a signal ended it).
    func bounded(_ arguments: [String], in dir: String) -> Binary.Result {
        Binary.runBounded(arguments, in: dir, seconds: Self.seconds, memoryKiB: Self.memoryKiB)
    }

    /// The folder the runs share: a small trained run, a point set, and special files.
    func prepare() throws -> String {
        let dir = scratchDirectory()
        let train = Binary.run(
            ["train", "--data", "moons", "--aug-dim", "8", "--steps", "5", "--out", "run"]
                + CommandTests.tiny, in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        try NPY.write(
            Matrix(rows: 4, cols: 2, storage: [0, 1, 2, 3, 4, 5, 6, 7]), to: "\(dir)/points.npy")
        #expect(
            mkfifo("\(dir)/fifo", 0o644) == 0 && symlink("\(dir)/fifo", "\(dir)/link-to-fifo") == 0)
        #expect(symlink("/dev/null", "\(dir)/null-device") == 0)
        try FileManager.default.createDirectory(
            atPath: "\(dir)/folder", withIntermediateDirectories: true)
        return dir
    }

    /// A command line of one of the kinds the fuzzer knows, each value valid or drawn from a
    /// hostile pool.
    func command(_ rng: inout RandomSource) -> [String] {
        let tiny = ["--width", "16", "--depth", "1", "--batch", "8", "--threads", "1"]
        // Valid step counts a run can finish in seconds; the pool adds invalid and extreme ones
        // only.
        let stepPool =
            ["1", "2", "3"] + steps.filter { Int($0).map { $0 < 1 || $0 > 10_000 } ?? true }
        switch rng.index(below: 8) {
        case 0:
            return [
                "train", "--data", pick("moons", or: ["checkerboard"] + specials, &rng),
                "--aug-dim",
                pick("8", or: dimensions, &rng), "--steps", pick("3", or: stepPool, &rng),
                "--out", "t\(rng.index(below: 1000))",
            ] + tiny
        case 1:
            let s = pick("2", or: steps, &rng)
            let count = pick("50", or: s == "1" ? counts + ["10000000"] : counts, &rng)
            return [
                "sample", "--ckpt", "run", "--count", count, "--steps", s, "--solver", "euler",
                "--out", "s.npy",
            ]
        case 2:
            return [
                "sample", "--oracle", pick("points.npy", or: specials, &rng), "--aug-dim",
                pick("4", or: dimensions, &rng),
                "--count", pick("20", or: counts, &rng), "--steps", pick("3", or: stepPool, &rng),
                "--out", pick("o.npy", or: specials, &rng),
            ]
        case 3:
            return [
                "prior", "--dim", pick("2", or: ["0", "784", "1000001", "-2"], &rng), "--aug-dim",
                pick("2", or: dimensions, &rng), "--sigma",
                pick("80", or: ["1e300", "0", "-1", "nan"], &rng),
                "--count", pick("100", or: counts, &rng), "--kernel-quantile",
                pick("0.97", or: ["1", "0.5", "0.1"], &rng),
                "--out", "p.npy",
            ]
        case 4:
            return [
                "eval", "--ckpt", "run", "--count", pick("50", or: counts, &rng), "--steps",
                pick("2", or: stepPool, &rng),
            ]
        case 5:
            return ["data", "--data", pick("moons", or: specials + ["bomb"], &rng)]
        case 6:
            return [
                "denoise", "--ckpt", "run", "--input", pick("points.npy", or: specials, &rng),
                "--sigma",
                pick("1", or: ["0", "1e300", "nan"], &rng), "--out",
                pick("d.npy", or: specials, &rng),
            ]
        default:
            return [
                "fit", "--ckpt", "run", "--count", pick("10", or: counts, &rng), "--sigmas",
                "0.3,1",
            ]
        }
    }

    /// Sets one key of the run's config.json to a random literal (or restores it), returning the
    /// text written.
    func tamper(_ dir: String, _ original: String, _ rng: inout RandomSource) throws {
        let keys = [
            "width", "depth", "dim", "embedding_channels", "batch", "seed", "sigma_data", "aug_dim",
            "steps",
            "kernel_quantile", "architecture", "channels",
        ]
        var text = original
        if rng.uniform() < 0.3 {
            let key = pick(keys, &rng)
            let value = pick(values, &rng)
            let pattern = "\"\(key)\" : [^,\\n]*"
            if text.range(of: pattern, options: .regularExpression) != nil {
                text = text.replacingOccurrences(
                    of: pattern, with: "\"\(key)\" : \(value)", options: .regularExpression)
            } else {
                text = text.replacingOccurrences(
                    of: "{", with: "{\n  \"\(key)\" : \(value),", options: [], range: nil)
            }
        }
        try text.write(toFile: "\(dir)/run/config.json", atomically: true, encoding: .utf8)
    }

    @Test func randomArgumentsConfigsAndSpecialFilesEndCleanly() throws {
        let dir = try prepare()
        let original = try String(contentsOfFile: "\(dir)/run/config.json", encoding: .utf8)
        var rng = RandomSource(seed: Self.seed)
        var outcomes: [Int32: Int] = [:]
        for _ in 0..<Self.runs {
            try tamper(dir, original, &rng)
            let arguments = command(&rng)
            let r = bounded(arguments, in: dir)
            outcomes[r.status, default: 0] += 1
            #expect(
                (0...2).contains(r.status),
                "exit \(r.status) for \(arguments): \(r.stderr.suffix(400))")
            if r.status != 0 {
                #expect(r.errorLines.count <= 2, "not one line: \(arguments): \(r.stderr)")
            }
        }
        print(
            "command fuzz, seed \(Self.seed): exit statuses \(outcomes.sorted { $0.key < $1.key })")
        // Both outcomes occur: the fuzzer is not refused wholesale, nor does everything pass.
        #expect(
            (outcomes[0] ?? 0) > 10 && (outcomes[1] ?? 0) + (outcomes[2] ?? 0) > 40, "\(outcomes)")
    }
}
