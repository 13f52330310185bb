import Engine
import Foundation
import Testing

/// A run finds its data from any folder, says how to point at data that moved, and a resumed run's
/// progress counts only its own steps.
@Suite(.serialized) struct RunsMoveTests {
    static let tiny = ["--width", "16", "--depth", "1", "--batch", "16", "--threads", "1"]

    /// A run folder with its data in `d1/mine.npy` beside it, trained `steps` steps from `dir`.
    func trainedRun(steps: Int) throws -> String {
        let dir = scratchDirectory()
        try FileManager.default.createDirectory(
            atPath: "\(dir)/d1", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: "\(dir)/elsewhere", withIntermediateDirectories: true)
        let moons = try Dataset.load("moons")
        try NPY.write(moons.train.rows(0..<400), to: "\(dir)/d1/mine.npy")
        let train = Binary.run(
            [
                "train", "--data", "d1/mine.npy", "--aug-dim", "8", "--steps", "\(steps)",
                "--log-every", "20", "--out", "runs/a",
            ] + Self.tiny, in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        return dir
    }

    @Test func aRunFindsItsDataFromAnyFolderAndWhenItMovesWithIt() throws {
        let dir = try trainedRun(steps: 20)
        let config = try RunDirectory("\(dir)/runs/a").readConfig()
        #expect(config.data == DataLocation.absolute("\(dir)/d1/mine.npy"))
        #expect(config.dataFromRun == "../../d1/mine.npy")

        let elsewhere = Binary.run(
            ["train", "--resume", "../runs/a", "--steps", "40"], in: "\(dir)/elsewhere")
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        let fit = Binary.run(
            ["fit", "--ckpt", "../runs/a", "--sigmas", "1", "--count", "50", "--threads", "1"],
            in: "\(dir)/elsewhere")
        #expect(fit.status == 0, "\(fit.stderr)")

        // The run and its data move together: the path from the run folder still holds.
        let moved = dir + "-moved"
        try FileManager.default.moveItem(atPath: dir, toPath: moved)
        let together = Binary.run(
            ["train", "--resume", "\(moved)/runs/a", "--steps", "60"], in: "/")
        #expect(together.status == 0, "\(together.stderr)")
        #expect(
            try RunDirectory("\(moved)/runs/a").readConfig().data
                == DataLocation.absolute("\(moved)/d1/mine.npy"))

        // The data alone moves: one line that names the way to point at it, then --data does.
        try FileManager.default.moveItem(atPath: "\(moved)/d1", toPath: "\(moved)/d2")
        expectRejection(
            ["train", "--resume", "runs/a", "--steps", "80"], in: moved, mentions: "--data PATH")
        expectRejection(
            ["eval", "--ckpt", "runs/a", "--count", "50"], in: moved, mentions: "--data PATH")
        let pointed = Binary.run(
            ["train", "--resume", "runs/a", "--steps", "80", "--data", "d2/mine.npy"], in: moved)
        #expect(pointed.status == 0, "\(pointed.stderr)")
        let recorded = try RunDirectory("\(moved)/runs/a").readConfig()
        #expect(
            recorded.data == DataLocation.absolute("\(moved)/d2/mine.npy")
                && recorded.dataFromRun == "../../d2/mine.npy")
    }

    /// The first progress line after --resume: its speed counts the steps of this process, not the
    /// run's.
    @Test func resumedProgressCountsOnlyItsOwnSteps() throws {
        let dir = try trainedRun(steps: 1000)
        let resumed = Binary.run(["train", "--resume", "runs/a", "--steps", "1100"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let rates = resumed.errorLines.compactMap { line -> Double? in
            guard line.hasPrefix("step "), let words = Optional(line.split(separator: " ")),
                let at = words.firstIndex(of: "steps/s"), at > 0
            else { return nil }
            return Double(words[at - 1])
        }
        // The first line comes after one step: with the run's 1,000 earlier steps counted it read
        // ~1000× the logged rate; a first step slower than the rest only lowers it.
        let first = try #require(rates.first)
        let last = try #require(rates.last)
        #expect(rates.count >= 2 && first < 20 * last, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("done: step 1100, 100 steps"), "\(resumed.stderr)")
    }

    /// eval's mmd2 is the studio's MMD²: the unbiased estimate, signed, with its significant
    /// digits.
    @Test func evalReportsTheSignedUnbiasedMMDSquaredOfTheStudio() throws {
        let dir = scratchDirectory()
        let moons = try Dataset.load("moons")
        let samples = moons.draw(count: 400, seed: 7)
        try NPY.write(samples, to: "\(dir)/s.npy")
        let eval = Binary.run(
            ["eval", "--samples", "s.npy", "--data", "moons", "--metric", "mmd"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let printed = try #require(json["mmd2"] as? Double)
        let floor = try #require(json["mmd2_floor"] as? Double)
        let reference = moons.heldOut.rows(0..<400)
        let expected = MMD.squaredDistance(
            samples, reference, bandwidths: MMD.bandwidths(for: reference))
        // Six significant digits printed; the per-thread partial sums may add in another order
        // (~1e-12).
        #expect(
            abs(printed - expected) <= 1e-5 * abs(expected) + 1e-12, "\(printed) vs \(expected)")
        #expect(printed != 0 && floor != 0 && json["mmd"] == nil)
    }
}
