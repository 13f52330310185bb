import Foundation

/// One trained or training model of the bank, with its optimizer state and loss history.
final class ModelSlot {
    let trainer: Trainer
    let run: RunDirectory
    let lock: RunLock
    var history = LossHistory()
    var lastLoss: Float?
    var savedStep: Int
    /// The steps since the last stats line, counted with the seconds each took.
    var window = StatsWindow()
    /// Seconds spent training this model in this studio, for `elapsed_s`.
    var elapsed = 0.0
    /// Whether appending to stats.jsonl failed (said once).
    var loggingFailed = false

    init(trainer: Trainer, run: RunDirectory, lock: RunLock, savedStep: Int = -1) {
        self.trainer = trainer
        self.run = run
        self.lock = lock
        self.savedStep = savedStep
    }

    var unsaved: Bool { trainer.step != savedStep && trainer.step > 0 }

    static let logEvery = 50

    /// Counts a step's loss, and every `logEvery` steps appends the line `pfgm train` writes to
    /// stats.jsonl (resuming trims the lines past the saved step, as for `pfgm train`).
    func log(_ loss: Float, seconds: Double) throws(StorageError) {
        window.add(loss, seconds: seconds)
        elapsed += seconds
        guard trainer.step % Self.logEvery == 0 else { return }
        try run.appendStats(window.close(step: trainer.step, elapsed: elapsed))
    }
}

/// The model bank: creating, training, saving and loading the models of each D.
extension StudioEngine {
    func startTraining(at d: AugmentedDimension) {
        if bank[d] == nil {
            guard let slot = makeSlot(.one(d), in: runDirectory(for: d), name: "at D=\(d)") else {
                return
            }
            bank[d] = slot
        }
        beginTraining(d, oneNetwork: false, message: "training D=\(d)")
        if d == settings.augmentedDimension { preview.ask() }
    }

    /// A fresh model for `dimensions` in `run` with the studio's settings; nil (the reason in the
    /// message line) when it cannot be made.
    func makeSlot(_ dimensions: TrainedDimensions, in run: RunDirectory, name: String) -> ModelSlot?
    {
        var config = TrainingConfig(
            data: dataset.name, dim: dataset.dim, dimensions: dimensions,
            sigmaData: dataset.sigmaData, steps: 1_000_000_000)
        config.seed = settings.seed
        config.learningRate = learningRate
        schedule.apply(to: &config)
        if case .range = dimensions { draws.apply(to: &config) }
        config.channels = dataset.imageChannels
        do {
            try run.create()
            // The config first, as `pfgm train` writes it: another studio can follow the losses
            // from now on.
            try run.writeConfig(config)
            return ModelSlot(
                trainer: try Trainer(config: config, data: dataset.train), run: run,
                lock: try RunLock(run: run))
        } catch let error as StorageError {
            say("cannot train \(name): \(error.description)", .problem)
        } catch {
            say("cannot train \(name): \(error)", .problem)
        }
        return nil
    }

    /// What trains from now on: the model at D, or the one network.
    func beginTraining(_ d: AugmentedDimension?, oneNetwork: Bool, message: String) {
        training = d
        trainingOneNetwork = oneNetwork
        snapshot.trainingDimension = d
        snapshot.trainingOneNetwork = oneNetwork
        rateWindow = (Stopwatch.now(), 0)
        preview.delayAutomatic(by: 2, now: Stopwatch.now())
        say(message)
    }

    /// One step of the slot that trains; `name` says which in messages.
    func trainOneStep(_ slot: ModelSlot, _ name: String) {
        let begin = Stopwatch.now()
        let loss = slot.trainer.trainStep()
        guard loss.isFinite else {
            training = nil
            trainingOneNetwork = false
            say(
                """
                training \(name) diverged at step \(slot.trainer.step + 1) (loss \(loss)); paused \
                on the last good weights
                """, .problem)
            snapshot.warnings.append(snapshot.message)
            publish()
            return
        }
        slot.history.append(loss)
        slot.lastLoss = loss
        rateWindow.steps += 1
        let now = Stopwatch.now()
        do { try slot.log(loss, seconds: now - begin) } catch {
            if !slot.loggingFailed { say("cannot log the losses: \(error.description)", .problem) }
            slot.loggingFailed = true
        }
        if now - rateWindow.start >= 0.5 {
            snapshot.stepsPerSecond = Double(rateWindow.steps) / (now - rateWindow.start)
            rateWindow = (now, 0)
        }
        if now - lastPublish >= 0.1 { publish() }
    }

    /// Saves the model at D; false (with the reason in the message line) when it could not.
    @discardableResult
    func save(_ d: AugmentedDimension) -> Bool {
        guard let slot = bank[d] else {
            say("nothing to save at D=\(d): no model trained there")
            return false
        }
        return save(slot, "D=\(d)")
    }

    func save(_ slot: ModelSlot, _ name: String) -> Bool {
        do {
            try slot.run.create()
            try slot.run.writeConfig(slot.trainer.config)
            try slot.run.save(slot.trainer)
            slot.savedStep = slot.trainer.step
            say("saved \(name) at step \(slot.trainer.step) → \(slot.run.path)", .saved)
            return true
        } catch {
            say("save failed: \(error.description)", .problem)
            return false
        }
    }

    /// A saved run as a slot: locked, resumed, with its logged losses as history; nil, said on the
    /// message line, when another process holds it or its files cannot be read.
    func loadSlot(_ run: RunDirectory, name: String) -> ModelSlot? {
        let lock: RunLock
        do { lock = try RunLock(run: run) } catch {
            say("not loaded: \(error.description)", .problem)
            return nil
        }
        guard let trainer = try? run.resume(data: dataset.train) else {
            say("\(run.path): cannot load \(name)", .problem)
            return nil
        }
        let slot = ModelSlot(trainer: trainer, run: run, lock: lock, savedStep: trainer.step)
        slot.history = Self.history(logged: run.loggedLosses(), upTo: trainer.step)
        return slot
    }

    func runDirectory(for d: AugmentedDimension) -> RunDirectory {
        if let run = opened.first(where: { (try? $0.readConfig().augmentedDimension) == d }) {
            return run
        }
        return RunDirectory("\(runsFolder)/\(dataset.shortName)-D\(d)")
    }

    /// Loads the opened runs and earlier saved models of this data set into the bank.
    func loadSavedModels() {
        var loaded: [String] = []
        for d in snapshot.ladder {
            let run = runDirectory(for: d)
            // An opened run may name its data by a path of the machine it was trained on.
            let isOpened = opened.contains { $0.path == run.path }
            guard run.exists, let config = try? run.readConfig(),
                DataLocation.same(config.data, dataset.name) || isOpened,
                config.augmentedDimension == d
            else { continue }
            guard let slot = loadSlot(run, name: "the model at D=\(d)") else { continue }
            bank[d] = slot
            loaded.append("D=\(d)")
        }
        for run in opened {
            guard let config = try? run.readConfig(), let d = config.augmentedDimension,
                bank[d] == nil
            else { continue }
            say("\(run.path): cannot load the model", .problem)
            return
        }
        if loadOneNetwork() { loaded.append("one network") }
        if !loaded.isEmpty && snapshot.messageKind != .problem {
            let steps =
                bank.values.map(\.trainer.step) + (oneNetwork.map { [$0.trainer.step] } ?? [])
            say("loaded \(loaded.joined(separator: ", ")) (step \(steps.max() ?? 0))")
        }
    }
}
