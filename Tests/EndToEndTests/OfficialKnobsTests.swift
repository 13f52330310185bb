import Engine
import Foundation
import Testing

/// The official code's knobs from the command line: EDM's stochastic sampler, the official
/// quantization scheme and the stable target field.
@Suite struct OfficialKnobsTests {
    /// `--reference-batch` lands in config.json (0 is off); one below the batch, or past the
    /// largest, is refused in one line by train, sweep and the studio before anything is written.
    @Test func theStableTargetIsRecordedAndItsBoundsChecked() throws {
        let dir = scratchDirectory()
        let train = Binary.run(
            [
                "train", "--data", "8gaussians", "--aug-dim", "1..64,inf", "--steps", "20",
                "--reference-batch", "512", "--out", "run",
            ] + CommandTests.tiny, in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(try RunDirectory("\(dir)/run").readConfig().referenceBatch == 512)
        let off = Binary.run(
            [
                "train", "--data", "8gaussians", "--aug-dim", "8", "--steps", "1",
                "--reference-batch", "0", "--out", "off",
            ] + CommandTests.tiny, in: dir)
        #expect(off.status == 0, "\(off.stderr)")
        #expect(try RunDirectory("\(dir)/off").readConfig().referenceBatch == nil)
        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "8", "--batch", "64", "--reference-batch",
                "32", "--steps", "5", "--out", "small",
            ], in: dir, output: "small", mentions: "reference batch")
        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "8", "--reference-batch", "100000",
                "--steps", "5", "--out", "huge",
            ], in: dir, output: "huge", mentions: "--reference-batch")
        expectRejection(
            [
                "sweep", "--data", "moons", "--aug-dims", "8", "--batch", "64", "--steps", "5",
                "--reference-batch", "32", "--out", "sw",
            ], in: dir, output: "sw", mentions: "--reference-batch")
        expectRejection(
            ["studio", "--reference-batch", "300", "--runs", "r"], in: dir, output: "r",
            mentions: "reference batch")
    }

    /// `--s-churn 0` (the default) draws exactly what no flag draws; a churned run is the same for
    /// one seed, differs from the ODE's, and `eval` records its settings.
    @Test func stochasticSamplingIsOffByDefaultAndReproducibleBySeed() throws {
        let dir = scratchDirectory()
        let train = Binary.run(
            ["train", "--data", "8gaussians", "--aug-dim", "128", "--steps", "30", "--out", "run"]
                + CommandTests.tiny, in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let base = ["sample", "--ckpt", "run", "--count", "200", "--steps", "6", "--seed", "3"]
        func draw(_ name: String, _ extra: [String]) throws -> NPY.Array {
            let r = Binary.run(base + ["--out", name] + extra, in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            return try NPY.read("\(dir)/\(name)")
        }
        let plain = try draw("a.npy", [])
        let zero = try draw("b.npy", ["--s-churn", "0", "--s-noise", "1.5"])
        #expect(zero == plain)
        let churn = ["--s-churn", "10", "--s-min", "0.05", "--s-max", "50", "--s-noise", "1.007"]
        let churned = try draw("c.npy", churn)
        let again = try draw("d.npy", churn)
        #expect(churned != plain && churned == again)
        let scored = Binary.run(
            ["eval", "--ckpt", "run", "--count", "200", "--steps", "6"] + churn, in: dir)
        #expect(scored.status == 0, "\(scored.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [String: Any])
        #expect(json["s_churn"] as? Double == 10 && json["s_max"] as? Double == 50)
        #expect(json["s_noise"] as? Double == 1.007 && json["s_min"] as? Double == 0.05)
        let refused = Binary.run(
            base + ["--out", "e.npy", "--s-min", "2", "--s-max", "1"], in: dir)
        #expect(refused.status != 0 && refused.stderr.contains("--s-max must be at least"))
    }

    /// `--quant-scheme official` changes 4-bit samples from `all`'s, changes nothing at 32 bits,
    /// and is recorded by eval; a sweep keeps its scheme and churn in sweep.json and report.md.
    @Test func theQuantizationSchemeIsChosenAndRecorded() throws {
        let dir = scratchDirectory()
        let train = Binary.run(
            ["train", "--data", "8gaussians", "--aug-dim", "inf", "--steps", "30", "--out", "run"]
                + CommandTests.tiny + ["--depth", "2"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let base = ["sample", "--ckpt", "run", "--count", "100", "--steps", "4"]
        func draw(_ name: String, _ extra: [String]) throws -> NPY.Array {
            let r = Binary.run(base + ["--out", name] + extra, in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            return try NPY.read("\(dir)/\(name)")
        }
        let all = try draw("a.npy", ["--bits", "4"])
        let official = try draw("b.npy", ["--bits", "4", "--quant-scheme", "official"])
        let full = try draw("c.npy", [])
        let fullOfficial = try draw("d.npy", ["--quant-scheme", "official"])
        #expect(all != official && full == fullOfficial)
        let scored = Binary.run(
            ["eval", "--ckpt", "run", "--count", "100", "--steps", "4", "--bits", "6"]
                + ["--quant-scheme", "official"], in: dir)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [String: Any])
        #expect(json["quant_scheme"] as? String == "official" && json["bits"] as? Int == 6)
        let bad = Binary.run(base + ["--out", "e.npy", "--quant-scheme", "some"], in: dir)
        #expect(bad.status != 0 && bad.stderr.contains("quant-scheme"))

        let arguments =
            [
                "sweep", "--data", "8gaussians", "--aug-dims", "inf", "--steps", "5", "--seeds",
                "1", "--count", "50", "--alphas", "0.1", "--bits", "5", "--nfe", "5",
                "--quant-scheme", "official", "--s-churn", "5", "--width", "16", "--depth", "1",
                "--batch", "32", "--threads", "1", "--out", "sw",
            ]
        let sweep = Binary.run(arguments, in: dir)
        #expect(sweep.status == 0, "\(sweep.stderr)")
        // Run again, the folder is the same sweep: read back whole, it continues (nothing left).
        let again = Binary.run(arguments, in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        let plan = try String(contentsOfFile: "\(dir)/sw/sweep.json", encoding: .utf8)
        #expect(plan.contains("official") && plan.contains("s_churn"))
        let report = try String(contentsOfFile: "\(dir)/sw/report.md", encoding: .utf8)
        #expect(report.contains("(scheme official)") && report.contains("S_churn 5.0"))
    }
}
