import Engine
import Foundation
import Testing

/// The official code's knobs from the command line: EDM's stochastic sampler.
@Suite struct OfficialKnobsTests {
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
}
