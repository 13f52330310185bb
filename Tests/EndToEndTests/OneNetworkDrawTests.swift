import Engine
import Foundation
import Testing

/// The one network's draws of D and the measure of which D it answers like, from the command line.
@Suite struct OneNetworkDrawTests {
    /// `--feature-share` and `--infinity-share` land in config.json (only for a new one network);
    /// `fit --against-aug-dim` prints, per σ (or per σ_i along sampling runs), both errors and a
    /// lean (what the lean means is checked against the oracle in `OneNetworkSeparationTests`).
    @Test func sharesAreRecordedAndFitSaysWhichDTheModelAnswersLike() throws {
        let dir = scratchDirectory()
        let train = Binary.run(
            [
                "train", "--data", "8gaussians", "--aug-dim", "1..64,inf", "--feature-share",
                "0.75",
                "--infinity-share", "0.4", "--steps", "30", "--out", "run",
            ] + CommandTests.tiny, in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let config = try RunDirectory("\(dir)/run").readConfig()
        #expect(config.featureShare == 0.75 && config.infinityShare == 0.4)
        let plain = Binary.run(
            [
                "train", "--data", "8gaussians", "--aug-dim", "1..64,inf", "--steps", "1", "--out",
                "p",
            ]
                + CommandTests.tiny, in: dir)
        #expect(plain.status == 0, "\(plain.stderr)")
        let defaults = try RunDirectory("\(dir)/p").readConfig()
        #expect(defaults.featureShare == nil && defaults.infinityShare == 0.25)
        #expect(defaults.pMeanShift == nil)
        // --sharp-draws stands for the three flags; each one given wins.
        let sharp = Binary.run(
            [
                "train", "--data", "8gaussians", "--aug-dim", "1..64,inf", "--sharp-draws",
                "--feature-share", "0.5", "--steps", "1", "--out", "sharp",
            ] + CommandTests.tiny, in: dir)
        #expect(sharp.status == 0, "\(sharp.stderr)")
        let drawn = try RunDirectory("\(dir)/sharp").readConfig()
        #expect(drawn.infinityShare == 0.4 && drawn.featureShare == 0.5 && drawn.pMeanShift == 1)

        let fit = Binary.run(
            [
                "fit", "--ckpt", "run", "--aug-dim", "2", "--against-aug-dim", "8", "--json",
                "--sigmas", "0.6,1", "--count", "200", "--threads", "1",
            ], in: dir)
        #expect(fit.status == 0, "\(fit.stderr)")
        let levels = try fit.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(levels.count == 2)
        for level in levels {
            #expect(
                level["aug_dim"] as? String == "2" && level["against_aug_dim"] as? String == "8")
            #expect((level["median"] as? Double ?? -1) >= 0)
            #expect((level["median_against"] as? Double ?? -1) >= 0)
            #expect((level["lean"] as? Double)?.isFinite == true)
            #expect((level["median_gap"] as? Double ?? -1) >= 0)
        }
        // The table marks a lean where the model's error to either mean is above their gap.
        let table = Binary.run(
            [
                "fit", "--ckpt", "run", "--aug-dim", "2", "--against-aug-dim", "8", "--sigmas",
                "0.6,1", "--count", "200", "--threads", "1",
            ], in: dir)
        #expect(table.status == 0 && table.stdout.contains("median gap"), "\(table.stdout)")
        let rows = table.stdout.split(separator: "\n").dropFirst(2).prefix(2).map {
            $0.split(separator: " ").compactMap { Double($0) }
        }
        for (row, line) in zip(rows, table.stdout.split(separator: "\n").dropFirst(2)) {
            #expect(row.count == 5, "\(line)")
            guard row.count == 5 else { continue }
            #expect(line.hasSuffix(" *") == (min(row[1], row[2]) >= row[3]), "\(line)")
        }
        // Along sampling runs (here with noise injection): one level per σ_i of the 4 steps.
        let along = Binary.run(
            [
                "fit", "--ckpt", "run", "--aug-dim", "2", "--against-aug-dim", "8", "--json",
                "--trajectory", "--steps", "4", "--alpha", "0.2", "--count", "100", "--threads",
                "1",
            ], in: dir)
        #expect(along.status == 0, "\(along.stderr)")
        let path = try along.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(path.count == 4 && path.allSatisfy { $0["against_aug_dim"] as? String == "8" })

        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "8", "--feature-share", "0.5", "--steps",
                "5", "--out", "one",
            ], in: dir, output: "one", mentions: "--feature-share")
        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "1..64", "--infinity-share", "0.5",
                "--steps", "5", "--out", "noinf",
            ], in: dir, output: "noinf", mentions: "no ∞")
        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "1..64,inf", "--feature-share", "2",
                "--steps", "5", "--out", "big",
            ], in: dir, output: "big", mentions: "--feature-share")
        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "1..64,inf", "--p-mean-shift", "9",
                "--steps", "5", "--out", "far",
            ], in: dir, output: "far", mentions: "--p-mean-shift")
        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "8", "--sharp-draws", "--steps", "5",
                "--out", "eight",
            ], in: dir, output: "eight", mentions: "--sharp-draws")
        expectRejection(
            ["fit", "--ckpt", "run", "--aug-dim", "8", "--against-aug-dim", "8"], in: dir,
            mentions: "choose another D")
        // The studio's one network takes the shares too, checked before a screen opens.
        expectRejection(
            ["studio", "--feature-share", "3", "--runs", "r"], in: dir, output: "r",
            mentions: "--feature-share")
        expectRejection(
            ["studio", "--follow", "run", "--infinity-share", "0.5"], in: dir,
            mentions: "following trains nothing")
    }
}
