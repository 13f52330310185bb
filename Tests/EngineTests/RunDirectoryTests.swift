import Engine
import Foundation
import Testing

/// Runs written by other programs (the PyTorch trainer) resume: without generator states, without
/// an optimizer file; a different parameter order is refused; logged losses come back for the
/// studio.
@Suite struct RunDirectoryTests {
    func savedRun(steps: Int = 6) throws -> (RunDirectory, Dataset) {
        let data = try Dataset.load("moons", trainCount: 500, heldOutCount: 100)
        var config = TrainingConfig(
            data: "moons", dim: 2, augmentedDimension: .finite(8), sigmaData: data.sigmaData,
            steps: 20)
        config.width = 16
        config.depth = 1
        config.batch = 32
        let trainer = try Trainer(config: config, data: data.train)
        for _ in 0..<steps { trainer.trainStep() }
        let run = RunDirectory(temporaryDirectory() + "/run")
        try run.create()
        try run.writeConfig(config)
        try run.save(trainer)
        return (run, data)
    }

    func rewriteOptimizer(_ run: RunDirectory, _ change: (inout SafeTensors.File) -> Void) throws {
        var file = try SafeTensors.read(run.optimizerPath)
        change(&file)
        try SafeTensors.write(file, to: run.optimizerPath)
    }

    /// Runs from before kernel truncation (no kernel_quantile, no ema_warmup) keep their meaning;
    /// new ones record both.
    @Test func configsWithoutTheNewFieldsKeepTheirMeaning() throws {
        let (run, data) = try savedRun()
        var text = String(decoding: try AtomicFile.read(run.configPath), as: UTF8.self)
        #expect(text.contains("\"kernel_quantile\" : 0.97"))
        text = text.split(separator: "\n").filter { !$0.contains("kernel_quantile") }.joined(
            separator: "\n")
        try AtomicFile.write(Array(text.utf8), to: run.configPath)
        let old = try run.readConfig()
        #expect(old.kernelQuantile == nil && old.emaWarmup == nil)
        let trainer = try run.resume(data: data.train)
        #expect(trainer.truncation == nil && trainer.ema.warmup)
        #expect(
            try Trainer(
                config: TrainingConfig(
                    data: "moons", dim: 2, augmentedDimension: .infinite, sigmaData: 1, steps: 1),
                data: data.train
            ).truncation?.quantile == TrainingConfig.defaultKernelQuantile)
        // A one-network run records its share of draws at D = ∞ (none without ∞ in the range).
        let range = try #require(AugmentedDimensionRange(parsing: "1..64,inf"))
        let noInfinity = try #require(AugmentedDimensionRange(parsing: "1..64"))
        #expect(
            TrainingConfig(data: "moons", dim: 2, dimensions: .range(range), sigmaData: 1, steps: 1)
                .infinityShare == 0.25)
        #expect(
            TrainingConfig(
                data: "moons", dim: 2, dimensions: .range(noInfinity), sigmaData: 1, steps: 1
            ).infinityShare == nil)
    }

    @Test func resumesWithoutGeneratorStatesFromStreamsOfTheSeedAndStep() throws {
        let (run, data) = try savedRun()
        let exact = try run.resume(data: data.train).trainStep()
        try rewriteOptimizer(run) { file in
            file.metadata["data_rng"] = nil
            file.metadata["noise_rng"] = nil
        }
        let first = try run.resume(data: data.train)
        let second = try run.resume(data: data.train)
        #expect(first.step == 6)
        let a = first.trainStep()
        let b = second.trainStep()
        #expect(a == b, "derived streams are deterministic")
        #expect(a != exact, "and differ from the saved ones")
        #expect(
            a.isFinite && abs(a - exact) < exact,
            "the same model at the same step: a comparable loss")
    }

    @Test func oneGeneratorStateWithoutTheOtherIsAnError() throws {
        let (run, data) = try savedRun()
        try rewriteOptimizer(run) { $0.metadata["noise_rng"] = nil }
        #expect(throws: StorageError.self) { try run.resume(data: data.train) }
    }

    @Test func aDifferentParameterOrderIsRefused() throws {
        let (run, data) = try savedRun()
        try rewriteOptimizer(run) { file in
            var names = (file.metadata["layout"] ?? "").split(separator: ",").map(String.init)
            #expect(names.count == 14)
            names.swapAt(0, 2)
            file.metadata["layout"] = names.joined(separator: ",")
        }
        do {
            _ = try run.resume(data: data.train)
            Issue.record("resumed with a different parameter order")
        } catch {
            #expect(error.description.contains("parameter order differs"))
        }
    }

    @Test func withoutAnOptimizerFileTrainingContinuesFromTheCheckpoint() throws {
        let (run, data) = try savedRun()
        let checkpoint = try SafeTensors.read(run.checkpointPath)
        try FileManager.default.removeItem(atPath: run.optimizerPath)
        let trainer = try run.resume(data: data.train)
        #expect(trainer.step == 6)
        let byName = { (t: [NamedTensor]) in t.sorted { $0.name < $1.name } }
        #expect(
            byName(trainer.network.parameters.tensors()) == byName(checkpoint.tensors),
            "raw weights start at the EMA weights")
        #expect(byName(trainer.ema.average.tensors()) == byName(checkpoint.tensors))
        #expect(trainer.trainStep().isFinite)
    }

    @Test func loggedLossesOpenWithTheRunInTheStudio() throws {
        let (run, data) = try savedRun(steps: 10)
        let lines = """
            {"step": 4, "loss": 2.0}
            {"step": 10, "loss": 1.0, "steps_per_s": 3}
            not json
            {"step": 12, "lo
            """
        try Data(lines.utf8).write(to: URL(fileURLWithPath: run.statsPath))
        #expect(run.loggedLosses().map(\.step) == [4, 10])
        let engine = StudioEngine(
            dataset: data, settings: StudioSettings(augmentedDimension: .finite(8)),
            runsFolder: temporaryDirectory(), opened: [run])
        engine.start()
        let deadline = Date().addingTimeInterval(30)
        while engine.latest.bank.isEmpty && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(
            engine.latest.loss.buckets == [2, 2, 2, 2, 1, 1, 1, 1, 1, 1],
            "each logged mean stands for its window's steps")
        engine.send(.quit)
        while !engine.hasStopped && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }
}
