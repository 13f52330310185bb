import Engine
import Foundation
import Testing

/// The studio's engine on its own thread: commands between steps, snapshots without waiting, saving
/// on quit.
@Suite struct StudioEngineTests {
    @Test func trainsOnItsOwnThreadAppliesCommandsAndSavesOnQuit() throws {
        let runs = temporaryDirectory()
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        let engine = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: runs)
        engine.start()
        #expect(waitUntil { engine.latest.preview != nil })
        #expect(engine.latest.preview?.source.hasPrefix("oracle") == true)
        #expect(engine.latest.state == .paused)

        engine.send(.toggleTraining)
        #expect(waitUntil { engine.latest.step >= 20 })
        #expect(engine.latest.state == .training || engine.latest.state == .sampling)
        #expect(engine.latest.bank.map(\.augmentedDimension) == [.finite(8)])

        var settings = engine.latest.settings
        settings.augmentedDimension = .infinite
        settings.steps = 6
        engine.send(.apply(settings))
        #expect(waitUntil { engine.latest.preview?.settings == settings })
        #expect(engine.latest.preview?.kind == .oracle)
        #expect(engine.latest.preview?.trajectory.count == 7)

        engine.send(.toggleTraining)
        #expect(waitUntil { engine.latest.state == .paused })
        let paused = engine.latest.step
        // A resample that comes back proves the loop ran on; paused, it ran no training step.
        settings.seed += 1
        engine.send(.resample(settings))
        #expect(waitUntil { engine.latest.preview?.settings.seed == settings.seed })
        #expect(engine.latest.step == paused)

        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
        let saved = try RunDirectory("\(runs)/moons-D8").loadDenoiser()
        #expect(saved.1.augmentedDimension == .finite(8))
        let optimizer = try SafeTensors.read("\(runs)/moons-D8/optimizer.safetensors")
        #expect(optimizer.metadata["step"] == String(paused))

        // A new engine on the same data finds the saved model and continues from its step.
        let again = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: runs)
        again.start()
        #expect(waitUntil { again.latest.bank.first?.step == paused })
        #expect(
            waitUntil {
                again.latest.preview?.kind == .model && again.latest.preview?.step == paused
            })
        again.send(.quit)
        #expect(waitUntil { again.hasStopped })
    }

    @Test func opensEveryModelOfASweepIntoTheBank() throws {
        let dir = temporaryDirectory()
        var plan = SweepPlan(
            data: "moons", augDims: ["3", "inf"], seeds: 1, steps: 5, alphas: [], bits: [],
            nfe: [3], count: 50)
        plan.width = 16
        plan.depth = 1
        plan.batch = 16
        let runner = try SweepRunner(plan: plan, directory: dir + "/sweep")
        #expect(try runner.run())
        try runner.writeOutputs(command: "test")
        let runs = plan.augDims.map { RunDirectory(runner.modelPath($0, seed: 0)) }
        let report = SweepReport(plan: plan, results: runner.results(), metric: "swd", floor: nil)
        #expect(report.textLines().contains { $0.contains("swd vs nfe") })
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        let engine = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(3)),
            runsFolder: dir + "/runs",
            opened: runs, sweepLines: report.textLines())
        #expect(engine.latest.ladder.contains(.finite(3)) && engine.latest.sweep.count > 5)
        engine.start()
        #expect(
            waitUntil {
                Set(engine.latest.bank.map(\.augmentedDimension)) == [.finite(3), .infinite]
            })
        #expect(engine.latest.bank.allSatisfy { $0.step == 5 })
        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
    }

    @Test func divergencePausesOnTheLastGoodWeightsAndSaysSo() throws {
        let runs = temporaryDirectory()
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        let engine = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: runs, learningRate: 1e30)
        engine.start()
        engine.send(.toggleTraining)
        #expect(waitUntil { engine.latest.message.contains("diverged") })
        #expect(engine.latest.state == .paused || engine.latest.state == .sampling)
        #expect(engine.latest.warnings.contains { $0.contains("diverged") })
        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
        // Weights are saved on quit when steps before the divergence moved them; then finite.
        let step = engine.latest.step
        let path = "\(runs)/moons-D8/checkpoint.safetensors"
        #expect(exists(path) == (step > 0), "step \(step), checkpoint \(exists(path))")
        if step > 0 {
            let saved = try SafeTensors.read(path)
            #expect(saved.tensors.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        }
    }

    /// An opened one-network run answers at every D of the slider, keeps training while D moves,
    /// and is saved where it was opened; `n` in a fresh studio makes one over the whole slider.
    @Test func theOneNetworkAnswersAtEveryDAndTrainsWhileDMoves() throws {
        let dir = temporaryDirectory()
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        var config = TrainingConfig(
            data: "moons", dim: 2,
            dimensions: .range(try #require(AugmentedDimensionRange(parsing: "1..4096,inf"))),
            sigmaData: data.sigmaData, steps: 100)
        config.width = 32
        config.depth = 1
        config.batch = 64
        let trainer = try Trainer(config: config, data: data.train)
        for _ in 0..<10 { trainer.trainStep() }
        let run = RunDirectory(dir + "/one")
        try run.create()
        try run.writeConfig(config)
        try run.save(trainer)

        let engine = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: dir + "/runs",
            opened: [run])
        engine.start()
        #expect(
            waitUntil {
                engine.latest.preview?.source.hasPrefix("one network 1..4096,inf at D=8, step 10")
                    == true
            })
        #expect(engine.latest.oneNetwork?.step == 10 && engine.latest.bank.isEmpty)
        engine.send(.toggleTraining)
        var settings = engine.latest.settings
        for d in [AugmentedDimension.finite(2), .infinite] {
            let before = engine.latest.oneNetwork?.step ?? 0
            settings.augmentedDimension = d
            engine.send(.apply(settings))
            #expect(
                waitUntil {
                    engine.latest.preview?.source.hasPrefix("one network 1..4096,inf at D=\(d)")
                        == true
                })
            #expect(
                waitUntil { (engine.latest.oneNetwork?.step ?? 0) > before + 5 },
                "training stopped when D moved")
        }
        settings.useOneNetwork = false
        engine.send(.apply(settings))
        #expect(waitUntil { engine.latest.preview?.source.hasPrefix("oracle") == true })
        engine.send(.quit)
        #expect(waitUntil { engine.hasStopped })
        let saved = try SafeTensors.read(run.optimizerPath)
        #expect(Int(saved.metadata["step"] ?? "") ?? 0 > 10)

        let fresh = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: dir + "/runs")
        fresh.start()
        fresh.send(.trainOneNetwork)
        #expect(
            waitUntil {
                (fresh.latest.oneNetwork?.step ?? 0) >= 5 && fresh.latest.state == .training
            })
        fresh.send(.quit)
        #expect(waitUntil { fresh.hasStopped })
        #expect(
            try RunDirectory(dir + "/runs/moons-one").readConfig().augDim.description
                == "1..4096,inf")
    }

    /// A new one network draws with the shares the studio was given, and says so; one already
    /// saved keeps its own, and the studio says that too.
    @Test func theOneNetworkDrawsWithTheSharesGiven() throws {
        let dir = temporaryDirectory()
        let data = try Dataset.load("moons", trainCount: 2000, heldOutCount: 500)
        // Trains until the message says `text` (a saved one network is loaded at its own step
        // before the command to train arrives, so the step alone does not say it was handled).
        func train(_ draws: OneNetworkDraws, until text: String) -> String {
            let engine = StudioEngine(
                dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
                runsFolder: dir + "/runs", draws: draws)
            engine.start()
            engine.send(.trainOneNetwork)
            var message = ""
            #expect(
                waitUntil {
                    let latest = engine.latest
                    message = latest.message
                    return message.contains(text) && (latest.oneNetwork?.step ?? 0) >= 2
                })
            engine.send(.quit)
            #expect(waitUntil { engine.hasStopped })
            return message
        }
        let sharp = OneNetworkDraws(infinity: 0.4, feature: 0.75)
        let shares = "drawing ∞ for 0.4 of the draws, 0.75 of the finite"
        let first = train(sharp, until: shares)
        #expect(first.contains(shares), "\(first)")
        let config = try RunDirectory(dir + "/runs/moons-one").readConfig()
        #expect(config.infinityShare == 0.4 && config.featureShare == 0.75)
        let kept = "keeps the draws it was trained with"
        let other = train(OneNetworkDraws(pMeanShift: 1), until: kept)
        #expect(other.contains(kept), "\(other)")
        #expect(try RunDirectory(dir + "/runs/moons-one").readConfig().featureShare == 0.75)
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func lossHistoryStaysBoundedAndKeepsTheMean() {
        var history = LossHistory()
        for i in 0..<100_000 { history.append(Float(i % 2)) }
        #expect(history.buckets.count < LossHistory.capacity)
        #expect(history.stepsPerBucket > 1)
        let mean = history.buckets.reduce(0, +) / Float(history.buckets.count)
        #expect(abs(mean - 0.5) < 1e-3)
    }
}
