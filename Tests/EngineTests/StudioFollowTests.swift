import Engine
import Foundation
import Testing

/// `pfgm studio --follow`: a read-only engine over a run another process trains.
@Suite struct StudioFollowTests {
    /// Trains `steps` more steps, then saves and logs as `pfgm train` does.
    func advance(_ trainer: Trainer, _ run: RunDirectory, steps: Int) throws {
        var sum = 0.0
        for _ in 0..<steps { sum += Double(trainer.trainStep()) }
        try run.save(trainer)
        try run.appendStats(
            StatsLine(
                step: trainer.step, loss: sum / Double(steps), stepsPerSecond: 123.5,
                elapsedSeconds: 1))
    }

    /// A sweep of two D (3 and ∞) and two seeds of tiny moons models in DIR/sweep, not yet run.
    static func smallSweep(in dir: String) throws -> (SweepPlan, SweepRunner) {
        var plan = SweepPlan(
            data: "moons", augDims: ["3", "inf"], seeds: 2, steps: 5, alphas: [], bits: [],
            nfe: [3], count: 50)
        (plan.width, plan.depth, plan.batch) = (16, 1, 16)
        let runner = try SweepRunner(plan: plan, directory: dir + "/sweep")
        try runner.recordCommand("test")
        return (plan, runner)
    }

    /// Names and sizes of what the followed folder holds.
    func listing(_ path: String) -> [String: Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        var out: [String: Int] = [:]
        for name in names {
            out[name] =
                ((try? FileManager.default.attributesOfItem(atPath: "\(path)/\(name)"))?[.size]
                    as? Int) ?? -1
        }
        return out
    }

    /// A small moons run at D = 8 trained and saved to `steps`, in a fresh folder.
    func followedRun(steps: Int) throws -> (String, RunDirectory, Dataset, Trainer) {
        let dir = temporaryDirectory()
        let run = RunDirectory(dir + "/run")
        var config = TrainingConfig(
            data: "moons", dim: 2, augmentedDimension: .finite(8), sigmaData: 0.5, steps: 30)
        (config.width, config.depth, config.batch) = (16, 1, 16)
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        try run.create()
        try run.writeConfig(config)
        let trainer = try Trainer(config: config, data: data.train)
        try advance(trainer, run, steps: steps)
        return (dir, run, data, trainer)
    }

    @Test func followsCheckpointsAndStatsSurvivesTornFilesAndWritesNothing() throws {
        let (dir, run, data, trainer) = try followedRun(steps: 10)
        let lock = try RunLock(run: run)  // the trainer's lock: following must never need it

        var settings = StudioSettings(augmentedDimension: .finite(8))
        settings.steps = 4
        let engine = StudioEngine(
            dataset: data, settings: settings, runsFolder: dir + "/runs", follow: .run(run))
        engine.start()
        #expect(waitUntil { engine.latest.preview?.step == 10 })
        #expect(
            engine.latest.state == .following
                && engine.latest.follow?.trainer == .running(pid: getpid()))
        #expect(engine.latest.loss.buckets.count == 10 && engine.latest.stepsPerSecond == 123.5)
        #expect(engine.latest.bank.map(\.augmentedDimension) == [.finite(8)])

        try advance(trainer, run, steps: 10)
        #expect(waitUntil { engine.latest.preview?.step == 20 })
        #expect(engine.latest.loss.buckets.count == 20 && engine.latest.step == 20)
        let written = listing(run.path)

        // A torn checkpoint (renamed in half-written) and a missing one are survived: the last
        // weights stay.
        let good = try AtomicFile.read(run.checkpointPath)
        try AtomicFile.write(Array(good.prefix(good.count / 2)), to: run.checkpointPath)
        #expect(waitUntil { engine.latest.follow?.problem?.contains("unreadable") == true })
        try FileManager.default.removeItem(atPath: run.checkpointPath)
        #expect(waitUntil { engine.latest.follow?.problem?.contains("missing") == true })
        #expect(engine.latest.preview?.step == 20)
        try advance(trainer, run, steps: 10)
        #expect(waitUntil { engine.latest.preview?.step == 30 })
        #expect(engine.latest.follow?.problem == nil && engine.latest.follow?.finished == true)

        // Training keys are refused; s copies the model into the runs folder, never into the
        // followed one.
        engine.send(.toggleTraining)
        #expect(waitUntil { engine.latest.message.contains("read-only") })
        engine.send(.save)
        #expect(waitUntil { engine.latest.message.hasPrefix("copied D=8 (step 30)") })
        let copy = try RunDirectory(dir + "/runs/moons-D8").resume(data: data.train)
        #expect(copy.step == 30)
        #expect(Set(listing(run.path).keys) == Set(written.keys))
        #expect(!FileManager.default.fileExists(atPath: dir + "/runs/.studio-moons.lock"))

        withExtendedLifetime(lock) {}
        try FileManager.default.removeItem(atPath: run.path)
        #expect(waitUntil { engine.latest.follow?.problem?.contains("is gone") == true })
        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
    }

    /// A followed folder that becomes another run (other data and N, or another D) is said on
    /// screen and the last weights stay: its checkpoint used to reach the sampler with the wrong
    /// dimension (a crash).
    @Test(arguments: [
        ("manifold", AugmentedDimension.finite(8)), ("moons", AugmentedDimension.finite(32)),
    ])
    func aRunThatBecomesAnotherIsSaidAndTheLastWeightsStay(
        data otherData: String, d: AugmentedDimension
    ) throws {
        let (dir, run, data, _) = try followedRun(steps: 5)
        let other = RunDirectory(dir + "/other")
        let otherSet = try Dataset.load(otherData, trainCount: 500, heldOutCount: 100)
        var otherConfig = TrainingConfig(
            data: otherData, dim: otherSet.dim, augmentedDimension: d, sigmaData: 0.5, steps: 30)
        (otherConfig.width, otherConfig.depth, otherConfig.batch) = (16, 1, 16)
        try other.create()
        try other.writeConfig(otherConfig)
        try advance(try Trainer(config: otherConfig, data: otherSet.train), other, steps: 7)

        var settings = StudioSettings(augmentedDimension: .finite(8))
        settings.steps = 4
        let engine = StudioEngine(
            dataset: data, settings: settings, runsFolder: dir + "/runs", follow: .run(run))
        engine.start()
        #expect(waitUntil { engine.latest.preview?.step == 5 })
        for file in ["config.json", "checkpoint.safetensors"] {
            try AtomicFile.write(
                try AtomicFile.read(other.path + "/" + file), to: run.path + "/" + file)
        }
        #expect(
            waitUntil { engine.latest.follow?.problem?.contains("became another") == true },
            "\(engine.latest.follow?.problem ?? "no problem shown")")
        var reseeded = settings
        reseeded.seed += 1
        engine.send(.resample(reseeded))
        // The resample is drawn with the model read before the folder changed.
        #expect(waitUntil { engine.latest.preview?.settings.seed == reseeded.seed })
        #expect(!engine.hasStopped && engine.latest.preview?.step == 5)
        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
    }

    /// stats.jsonl as a link to a FIFO froze the engine (and `q` took 60 s); as /dev/zero it was
    /// never said.
    @Test(arguments: ["fifo", "/dev/zero"])
    func statsThatAreNotAFileAreSaidAndDoNotBlock(kind: String) throws {
        let (dir, run, data, _) = try followedRun(steps: 5)
        try FileManager.default.removeItem(atPath: run.statsPath)
        if kind == "fifo" {
            #expect(mkfifo(dir + "/fifo", 0o644) == 0)
            #expect(symlink(dir + "/fifo", run.statsPath) == 0)
        } else {
            #expect(symlink(kind, run.statsPath) == 0)
        }
        let engine = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: dir + "/runs", follow: .run(run))
        engine.start()
        #expect(
            waitUntil(20) { engine.latest.follow?.problem?.contains("not a regular file") == true },
            "\(engine.latest.follow?.problem ?? "no problem shown")")
        let asked = Date()
        engine.send(.quit)
        #expect(waitUntil(10) { engine.hasStopped })
        #expect(Date().timeIntervalSince(asked) < 5)
    }

    @Test func followsASweepsModelsAsTheyAppear() throws {
        let dir = temporaryDirectory()
        let (plan, runner) = try Self.smallSweep(in: dir)
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        let engine = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(3)),
            runsFolder: dir + "/runs",
            follow: .sweep(folder: dir + "/sweep", plan: plan, seed: nil))
        #expect(engine.latest.ladder.contains(.finite(3)))
        engine.start()
        #expect(waitUntil { engine.latest.follow != nil })
        #expect(engine.latest.bank.isEmpty && engine.latest.follow?.model == "no model yet")
        #expect(try runner.run())
        // Both D appear, each at its newest seed.
        #expect(
            waitUntil {
                Set(engine.latest.bank.map(\.augmentedDimension)) == [.finite(3), .infinite]
            })
        #expect(waitUntil { engine.latest.follow?.model.hasSuffix("seed 1") == true })
        #expect(
            waitUntil { engine.latest.preview?.source.hasPrefix("followed D=3 seed 1") == true })
        // The sweep's lock (on its folder) names this process; its stats lines carry the rate.
        #expect(
            engine.latest.follow?.trainer == .running(pid: getpid())
                && engine.latest.stepsPerSecond > 0)
        withExtendedLifetime(runner) {}
        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
    }

    /// Models trained in the studio log as `pfgm train` does: a second studio follows their losses
    /// while they train and their weights once saved, and a reopened model has its loss history.
    @Test func studioTrainedModelsLogStatsThatAnotherStudioFollows() throws {
        let runs = temporaryDirectory()
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        let trainer = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: runs)
        trainer.start()
        trainer.send(.toggleTraining)
        #expect(waitUntil { trainer.latest.step >= 10 })
        let run = RunDirectory(runs + "/moons-D8")
        let follower = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: runs + "/other",
            follow: .run(run))
        follower.start()
        #expect(
            waitUntil(120) {
                follower.latest.step >= 50 && follower.latest.loss.buckets.count >= 50
            })
        #expect(
            follower.latest.follow?.problem == nil,
            "no checkpoint yet is not a problem: \(follower.latest.follow?.problem ?? "")")
        trainer.send(.save)
        #expect(
            waitUntil { follower.latest.preview?.source.hasPrefix("followed D=8, step") == true })
        trainer.send(.quit)
        #expect(waitUntil { trainer.hasStopped })
        follower.send(.quit)
        #expect(waitUntil { follower.hasStopped })

        let saved = try SafeTensors.read(run.optimizerPath).metadata["step"].flatMap(Int.init) ?? 0
        let logged = run.loggedLosses()
        #expect(
            !logged.isEmpty
                && logged.allSatisfy { $0.step % 50 == 0 && $0.step <= saved && $0.loss.isFinite })
        let reopened = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: runs)
        reopened.start()
        #expect(waitUntil { reopened.latest.bank.first?.step == saved })
        let history = reopened.latest.loss
        let last = logged.last?.step ?? 0
        #expect(
            abs(history.buckets.count * history.stepsPerBucket - last) < history.stepsPerBucket,
            "\(history.buckets.count) buckets for \(last) steps")
        reopened.send(.quit)
        #expect(waitUntil { reopened.hasStopped })
    }
}
