import Engine
import Foundation
import Testing

/// The engine's features on their own, without an engine: follow mode's source, the point
/// metrics and the oracle cache.
@Suite struct StudioFeatureTests {
    /// One poll finds the run, reads its checkpoint and stats; a later poll sees what the trainer
    /// added; the D it answers at follows the settings.
    @Test func aFollowSourceFindsARunAndSeesWhatItsTrainerAdds() throws {
        let follow = StudioFollowTests()
        let (_, run, _, trainer) = try follow.followedRun(steps: 10)
        var source = FollowSource(.run(run))
        #expect(source.runs.isEmpty && source.focus == nil)
        source.poll(now: 0)
        let followed = try #require(source.runs.first)
        #expect(source.runs.count == 1 && followed.checkpointStep == 10)
        #expect(followed.model != nil && followed.history.buckets.count == 10)
        var settings = StudioSettings(augmentedDimension: .finite(8))
        #expect(source.answering(at: .finite(8), settings: settings) === followed)
        #expect(source.answering(at: .finite(4), settings: settings) == nil)
        settings.useOracle = true
        #expect(source.answering(at: .finite(8), settings: settings) == nil)
        #expect(source.status(now: 0).step == 10 && source.status(now: 0).problem == nil)

        try follow.advance(trainer, run, steps: 5)
        source.poll(now: 1)
        #expect(source.runs.count == 1 && followed.checkpointStep == 15)
        #expect(followed.history.buckets.count == 15 && source.status(now: 1).step == 15)
        try FileManager.default.removeItem(atPath: run.path)
        source.poll(now: 2)
        #expect(source.status(now: 2).problem?.contains("is gone") == true)
    }

    /// A sweep's models are found per D as they appear, each at its newest seed or the pinned one.
    @Test func aFollowSourceFindsASweepsModelsPerDimension() throws {
        let dir = temporaryDirectory()
        let (plan, runner) = try StudioFollowTests.smallSweep(in: dir)
        var newest = FollowSource(.sweep(folder: dir + "/sweep", plan: plan, seed: nil))
        var pinned = FollowSource(.sweep(folder: dir + "/sweep", plan: plan, seed: 0))
        newest.poll(now: 0)
        #expect(newest.runs.isEmpty)
        #expect(try runner.run())
        newest.poll(now: 1)
        pinned.poll(now: 1)
        let settings = StudioSettings(augmentedDimension: .finite(3))
        for (source, seed) in [(newest, "s1"), (pinned, "s0")] {
            #expect(source.runs.count == 2)
            for d in [AugmentedDimension.finite(3), .infinite] {
                let run = source.answering(at: d, settings: settings)
                #expect(run?.run.path.hasSuffix("-\(seed)") == true, "\(d): \(run?.run.path ?? "")")
            }
        }
    }

    /// Samples of the data itself measure at their floor; samples elsewhere far above it; the
    /// floors are measured once.
    @Test func pointMetricsMeasureAgainstFloorsTheyKeep() throws {
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        var metrics = PointMetrics(dataset: data)
        let own = data.draw(count: 400, seed: 7)
        let measured = metrics.row(own, d: .finite(8), source: .model, step: 3)
        let row = try #require(measured)
        #expect(row.augmentedDimension == .finite(8) && row.source == .model && row.step == 3)
        // Draws of the data against held-out data: the same law, so within a few floors (the
        // floor is one such distance between two draws).
        #expect(row.swd < 3 * row.swdFloor && row.mmdSquared < 3 * abs(row.mmdSquaredFloor) + 1e-3)
        var shifted = own
        for i in 0..<shifted.count { shifted.storage[i] += 3 }
        let measuredFar = metrics.row(shifted, d: .finite(8), source: .oracle, step: 0)
        let far = try #require(measuredFar)
        #expect(far.swd > 10 * far.swdFloor && far.mmdSquared > 100 * abs(far.mmdSquaredFloor))
        #expect(far.swdFloor == row.swdFloor && far.mmdSquaredFloor == row.mmdSquaredFloor)
        // Fresh draws of the data sit at the memorisation floor (binomial shares over 400 and
        // 1,000 rows: 4 deviations of their difference is 0.12); points far away never come
        // close to a training point.
        let (share, floor) = (row.memorisation ?? .nan, row.memorisationFloor ?? .nan)
        #expect(abs(share - floor) < 0.12 && abs(floor - 0.5) < 0.07, "\(share) vs \(floor)")
        #expect(far.memorisation == 0)
        shifted.storage[0] = .nan
        #expect(metrics.row(shifted, d: .finite(8), source: .model, step: 1) == nil)
    }

    /// The oracle is rebuilt only when D changes, over the first 1,000 training points.
    @Test func theOracleCacheKeepsTheLastDimension() throws {
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        var oracles = OracleCache(dataset: data)
        #expect(oracles.keptDimension == nil)
        let first = oracles.denoiser(at: .finite(8))
        #expect(oracles.denoiser(at: .finite(8)) === first)
        let other = oracles.denoiser(at: .infinite)
        #expect(other !== first && oracles.keptDimension == .infinite)
        #expect(other.points.rows == 1000)
    }
}

/// The coupled view through a real engine.
@Suite struct CoupledViewTests {
    /// With no model the oracle answers at every mark: each panel is `SamplingRequest`'s samples
    /// from the coupled draws at that D, the grid follows the settings, and closing empties it.
    @Test func theGridIsTheOraclesSamplesFromTheCoupledDraws() throws {
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        var settings = StudioSettings(augmentedDimension: .finite(8))
        settings.steps = 3
        let engine = StudioEngine(
            dataset: data, settings: settings, runsFolder: temporaryDirectory())
        engine.start()
        engine.send(.coupled(true))
        #expect(waitUntil { engine.latest.coupled?.panels.count == CoupledQueue.marks.count })
        let grid = try #require(engine.latest.coupled)
        #expect(grid.panels.map(\.augmentedDimension) == CoupledQueue.marks)
        #expect(grid.panels.allSatisfy { $0.label == "oracle" })
        let points = data.train.rows(0..<1000)
        let noise = CoupledNoise(count: StudioEngine.coupledPoints, dim: 2, seed: settings.seed)
        for panel in grid.panels {
            let d = panel.augmentedDimension
            let request = SamplingRequest(
                denoiser: OracleDenoiser(points: points, augmentedDimension: d),
                augmentedDimension: d, sampler: settings.sampler)
            var rng = RandomSource(seed: settings.seed)
            let latents = noise.latents(at: d, sigma: settings.sigmaMax, truncation: nil)
            let expected = request.sample(count: noise.count, latents: latents, rng: &rng)
            #expect(panel.points.storage == expected.storage, "D=\(d)")
        }
        // Another seed: a new grid, other noise.
        settings.seed = 9
        engine.send(.apply(settings))
        #expect(
            waitUntil {
                engine.latest.coupled?.panels.count == CoupledQueue.marks.count
                    && engine.latest.coupled?.panels.first?.points.storage
                        != grid.panels.first?.points.storage
            })
        engine.send(.coupled(false))
        #expect(waitUntil { engine.latest.coupled == nil })
        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
    }
}

/// The nearest-images view through a real engine.
@Suite struct NearestViewTests {
    /// With no model the oracle draws the preview, so each image's nearest training image is the
    /// one it returned: distance about 0, and all of them memorised.
    @Test func theOraclesImagesAreTheirOwnNearestTrainingImages() throws {
        let dir = temporaryDirectory()
        var rng = RandomSource(seed: 11)
        let values = (0..<(400 * 64)).map { _ in Float(rng.uniform() * 2 - 1) }
        try NPY.write(NPY.Array(shape: [400, 1, 8, 8], values: values), to: "\(dir)/img.npy")
        let data = try Dataset.load("\(dir)/img.npy")
        let settings = StudioSettings(augmentedDimension: .finite(64))
        let engine = StudioEngine(dataset: data, settings: settings, runsFolder: dir + "/runs")
        engine.start()
        #expect(waitUntil { engine.latest.preview != nil })
        engine.send(.nearest(true))
        #expect(waitUntil { engine.latest.nearest != nil })
        let nearest = try #require(engine.latest.nearest)
        #expect(nearest.samples.rows == StudioEngine.previewImages)
        #expect(nearest.neighbours.rows == nearest.samples.rows && nearest.threshold > 1)
        // The oracle ends on a training image, but for the odd sample whose last steps still
        // blend two (random images are all far apart: a typical distance is 6.5).
        let onTraining = nearest.distances.filter { $0 < 1e-2 }.count
        #expect(onTraining >= nearest.distances.count * 9 / 10, "\(nearest.distances)")
        #expect(nearest.share >= 0.9)
        engine.send(.nearest(false))
        #expect(waitUntil { engine.latest.nearest == nil })
        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
    }
}
