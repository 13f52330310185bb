import Engine
import Foundation
import Testing

/// `pfgm sweep` end to end: report, CSV and plots from a tiny sweep; a rerun does no repeated work;
/// a lost evaluation is redone alone; more seeds extend it; a different plan in the same folder is
/// refused.
@Suite(.serialized) struct SweepTests {
    static let tiny = [
        "sweep", "--data", "moons", "--aug-dims", "4,inf", "--steps", "30", "--seeds", "1",
        "--width", "16",
        "--depth", "1", "--batch", "32", "--count", "200", "--nfe", "5,3", "--bits", "5",
        "--alphas", "0.2",
        "--threads", "1", "--out", "sw",
    ]

    /// The tiny sweep over other D.
    static func tiny(augDims: String) -> [String] {
        tiny.map { $0 == "4,inf" ? augDims : $0 }
    }

    func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    @Test func tinySweepWritesItsReportAndResumesWithoutRepeatingWork() throws {
        let dir = scratchDirectory()
        // Given as an absolute path, --out is recorded by the folder's name alone.
        let first = Binary.run(Self.tiny.dropLast() + ["\(dir)/sw"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.components(separatedBy: "training D=").count - 1 == 2)
        #expect(first.stderr.contains("sweep of 2 models × 4 evaluations on moons"))
        for file in [
            "report.md", "results.csv", "alpha.png", "bits.png", "nfe.png", "sweep.json",
            "command.txt",
        ] {
            #expect(exists("\(dir)/sw/\(file)"), "\(file) is missing")
        }
        let csv = try String(contentsOfFile: "\(dir)/sw/results.csv", encoding: .utf8).split(
            separator: "\n")
        // Header + 2 models × 4 settings (base, α 0.2, 5 bits, NFE 3).
        #expect(csv.count == 1 + 2 * 4)
        #expect(csv.dropFirst().allSatisfy { $0.hasPrefix("moons,") && $0.contains(",swd,") })
        let report = try String(contentsOfFile: "\(dir)/sw/report.md", encoding: .utf8)
        #expect(
            report.contains("| D | α=0.0 | α=0.2 |") && report.contains("| inf |")
                && report.contains("Evaluations: 8 of 8"))
        #expect(report.contains("pfgm sweep --data moons"))
        #expect(report.contains("--out sw`") && !report.contains(dir), "\(report.prefix(400))")
        #expect(report.contains("D = ∞") && report.contains("degradation under alpha"))
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/sw/alpha.png")))
        #expect(png.prefix(4) == [0x89, 0x50, 0x4E, 0x47] && png[25] == 2)  // colour type 2: RGB
        #expect(
            exists("\(dir)/sw/models/D4-s0/checkpoint.safetensors")
                && exists("\(dir)/sw/models/Dinf-s0/checkpoint.safetensors"))

        let checkpoint = "\(dir)/sw/models/D4-s0/checkpoint.safetensors"
        let evaluation = "\(dir)/sw/evals/D4-s0/a0.0-b32-n5.json"
        let lost = "\(dir)/sw/evals/Dinf-s0/a0.0-b5-n5.json"
        let before = (modificationDate(checkpoint), modificationDate(evaluation))
        try FileManager.default.removeItem(atPath: lost)
        let second = Binary.run(Self.tiny, in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("training D="), "models were trained again")
        #expect(
            modificationDate(checkpoint) == before.0 && modificationDate(evaluation) == before.1)
        #expect(exists(lost))
        #expect(
            try String(contentsOfFile: "\(dir)/sw/results.csv", encoding: .utf8).split(
                separator: "\n"
            ).count == 9)

        // More seeds extend the sweep: seed 0's models stay, seed 1's are trained.
        var seeds = Self.tiny
        seeds[try #require(seeds.firstIndex(of: "--seeds")) + 1] = "2"
        let third = Binary.run(seeds, in: dir)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.components(separatedBy: "training D=").count - 1 == 2)
        #expect(modificationDate(checkpoint) == before.0)
        #expect(exists("\(dir)/sw/models/D4-s1/checkpoint.safetensors"))
        #expect(
            try String(contentsOfFile: "\(dir)/sw/results.csv", encoding: .utf8).split(
                separator: "\n"
            ).count == 1 + 2 * 2 * 4)
        #expect(try SweepRunner.readPlan("\(dir)/sw").seeds == 2)
        // Fewer seeds than the folder holds are another sweep.
        let fewer = Binary.run(Self.tiny, in: dir)
        #expect(fewer.status != 0 && fewer.stderr.contains("more --seeds adds seeds"))

        var changed = seeds
        changed[try #require(changed.firstIndex(of: "30"))] = "40"
        let refused = Binary.run(changed, in: dir)
        #expect(refused.status != 0 && refused.stderr.contains("different sweep"))
        let bad = Binary.run(
            ["sweep", "--data", "moons", "--steps", "5", "--nfe", "4", "--out", "x"], in: dir)
        #expect(bad.status != 0 && bad.stderr.contains("odd") && !exists("\(dir)/x"))
    }

    /// A published folder keeps sweep.json and results.csv, not models or evaluations: it resumes
    /// from its results. More seeds train only the new seed's models (here a one network), and
    /// the old seed's rows come back as they were; a results.csv line that is not this plan's is
    /// left out.
    @Test func aPublishedFolderResumesFromItsResults() throws {
        let dir = scratchDirectory()
        let one = Self.tiny + ["--one-network", "1..64,inf"]
        let first = Binary.run(one, in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let csv = "\(dir)/sw/results.csv"
        let published = try String(contentsOfFile: csv, encoding: .utf8)
        for folder in ["models", "evals"] {
            try FileManager.default.removeItem(atPath: "\(dir)/sw/\(folder)")
        }
        try (published + "moons,128,0,0.0,32,5,swd,0.5,0.01\n").write(
            toFile: csv, atomically: true, encoding: .utf8)
        var more = one
        more[try #require(more.firstIndex(of: "--seeds")) + 1] = "2"
        let second = Binary.run(more, in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("took 8 evaluations from results.csv"), "\(second.stderr)")
        #expect(second.stderr.contains("training the one network over 1..64,inf, seed 1"))
        #expect(!second.stderr.contains("seed 0 from"), "seed 0 was trained again")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(dir)/sw/models") == ["one-s1"])
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 1 + 2 * 2 * 4 && !rows.contains { $0.hasPrefix("moons,128,") })
        let old = published.split(separator: "\n")
        #expect(old.dropFirst().allSatisfy { rows.contains($0) })
    }

    /// With --one-network, one model per seed answers at every D of the grid; each D gets its own
    /// evaluations.
    @Test func oneNetworkSweepTrainsOneModelPerSeedAndScoresItAtEachD() throws {
        let dir = scratchDirectory()
        let run = Binary.run(Self.tiny + ["--one-network", "1..4096,inf"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stderr.components(separatedBy: "training the one network over 1..4096,inf").count
                - 1 == 1)
        #expect(run.stderr.contains("sweep of 1 network × 2 D × 4 evaluations on moons"))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(dir)/sw/models") == ["one-s0"])
        #expect(
            try RunDirectory("\(dir)/sw/models/one-s0").readConfig().augDim.description
                == "1..4096,inf")
        let csv = try String(contentsOfFile: "\(dir)/sw/results.csv", encoding: .utf8).split(
            separator: "\n")
        #expect(csv.count == 1 + 2 * 4)
        let report = try String(contentsOfFile: "\(dir)/sw/report.md", encoding: .utf8)
        #expect(
            report.contains("one network per seed over D in 1..4096,inf")
                && report.contains("Evaluations: 8 of 8"))
        let outside = Binary.run(
            Self.tiny(augDims: "4,8192") + [
                "--one-network", "1..4096,inf", "--out", "sw2",
            ], in: dir)
        #expect(
            outside.status != 0 && outside.stderr.contains("outside the one network's range")
                && !exists("\(dir)/sw2"))
    }

    /// --feature-share and --infinity-share shape the one network's draws of D, are recorded in its
    /// config and the report, and make another sweep; without --one-network they are refused.
    @Test func oneNetworkSweepDrawsDWithTheSharesGiven() throws {
        let dir = scratchDirectory()
        let one = Self.tiny + ["--one-network", "1..4096,inf"]
        let run = Binary.run(one + ["--feature-share", "0.75", "--infinity-share", "0.4"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let config = try RunDirectory("\(dir)/sw/models/one-s0").readConfig()
        #expect(config.featureShare == 0.75 && config.infinityShare == 0.4)
        let report = try String(contentsOfFile: "\(dir)/sw/report.md", encoding: .utf8)
        #expect(report.contains("(∞ for 0.4 of the draws, 0.75 of the finite ones uniform in"))
        let other = Binary.run(one + ["--feature-share", "0.75"], in: dir)
        #expect(other.status != 0 && other.stderr.contains("different sweep"), "\(other.stderr)")
        let dedicated = Binary.run(Self.tiny + ["--feature-share", "0.5", "--out", "sw2"], in: dir)
        #expect(
            dedicated.status != 0 && dedicated.stderr.contains("--one-network")
                && !exists("\(dir)/sw2"), "\(dedicated.stderr)")
        let noInfinity = Binary.run(
            Self.tiny(augDims: "4,8") + [
                "--one-network", "1..4096", "--infinity-share", "0.3", "--out", "sw3",
            ], in: dir)
        #expect(noInfinity.status != 0 && noInfinity.stderr.contains("has no ∞"))
        // Without ∞ in the range the report names the finite draws alone.
        let finite = Binary.run(
            Self.tiny(augDims: "4,8") + [
                "--one-network", "1..4096", "--feature-share", "0.5", "--out", "sw4",
            ], in: dir)
        #expect(finite.status == 0, "\(finite.stderr)")
        let text = try String(contentsOfFile: "\(dir)/sw4/report.md", encoding: .utf8)
        #expect(
            text.contains("over D in 1..4096 (0.5 of the finite ones uniform in N/(N + D))")
                && !text.contains("∞ for"))
        // --sharp-draws over a range without ∞ leaves ∞'s share out.
        let sharp = Binary.run(
            Self.tiny(augDims: "4,8") + [
                "--one-network", "1..4096", "--sharp-draws", "--out", "sw5",
            ],
            in: dir)
        #expect(sharp.status == 0, "\(sharp.stderr)")
        let drawn = try RunDirectory("\(dir)/sw5/models/one-s0").readConfig()
        #expect(drawn.featureShare == 0.75 && drawn.pMeanShift == 1 && drawn.infinityShare == nil)
        let sharpText = try String(contentsOfFile: "\(dir)/sw5/report.md", encoding: .utf8)
        #expect(
            sharpText.contains("0.75 of the finite ones uniform in N/(N + D), ln σ's mean + 1.0"))
    }
}
