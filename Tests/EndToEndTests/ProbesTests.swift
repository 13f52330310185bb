import Engine
import Foundation
import Testing

/// The studio's probes (`g`) measure what `pfgm sample` + `pfgm eval` measure: same draws, same
/// metric.
@Suite struct ProbesTests {
    /// SWD of `pfgm sample --ckpt run ARGS --count 800 --seed 0` scored by `pfgm eval`.
    func commandLineSWD(_ dir: String, _ args: [String]) throws -> Double {
        let sample = Binary.run(
            [
                "sample", "--ckpt", "run", "--count", "800", "--seed", "0", "--threads", "1",
                "--out", "s.npy",
            ] + args, in: dir)
        #expect(sample.status == 0, "\(sample.stderr)")
        let eval = Binary.run(
            ["eval", "--samples", "s.npy", "--data", "moons", "--metric", "swd"], in: dir)
        let line = try #require(eval.stdout.split(separator: "\n").first { $0.hasPrefix("{") })
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return try #require((json["swd"] as? NSNumber)?.doubleValue)
    }

    @Test func probeValuesMatchSampleAndEval() throws {
        let dir = scratchDirectory()
        let train = Binary.run(
            [
                "train", "--data", "moons", "--aug-dim", "8", "--steps", "300", "--width", "32",
                "--depth", "1",
                "--batch", "128", "--threads", "1", "--out", "run",
            ], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let data = try Dataset.load("moons")
        let engine = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: dir + "/runs",
            opened: [RunDirectory(dir + "/run")])
        engine.start()
        #expect(waitUntil(60) { engine.latest.bank.first?.step == 300 })
        engine.send(.probes(true))
        #expect(
            waitUntil(300) {
                engine.latest.probes?.curves.first?.isComplete == true
                    || engine.latest.probes?.status == ""
            })
        let probes = try #require(engine.latest.probes)
        let curve = try #require(probes.curves.first)
        #expect(probes.metric == .swd && curve.label == "D=8" && curve.step == 300, "\(curve)")
        // Same prior draws, noise and float arithmetic; only how the rows are split over threads
        // may differ (~1e-7 relative), far below the gaps between grid points (≥ 1e-2 here).
        let checks: [(Double?, [String])] = [
            (curve.alpha[2], ["--steps", "18", "--alpha", "0.1"]),
            (curve.bits[2], ["--steps", "18", "--bits", "6"]),
            (curve.nfe[1], ["--steps", "5"]),
        ]
        for (probe, args) in checks {
            let value = try #require(probe)
            let expected = try commandLineSWD(dir, args)
            #expect(
                abs(value - expected) / expected < 1e-4,
                "\(args): probes \(value), sample + eval \(expected)")
        }
        #expect(
            Set([curve.alpha[0], curve.alpha[2], curve.nfe[0]].compactMap { $0 }).count == 3,
            "different settings differ")
        // Reopening is instant: the curve of this model and step is cached.
        engine.send(.probes(false))
        #expect(waitUntil(10) { engine.latest.probes == nil })
        engine.send(.probes(true))
        #expect(
            waitUntil(10) {
                engine.latest.probes?.curves.first == curve && engine.latest.probes?.status == ""
            })
        engine.send(.quit)
        #expect(waitUntil(30) { engine.hasStopped })
    }
}
