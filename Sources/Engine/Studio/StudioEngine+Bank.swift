import Foundation

/// One trained or training model of the bank, with its optimizer state and loss history.
final class ModelSlot {
    let trainer: Trainer
    let run: RunDirectory
    let lock: RunLock
    var history = LossHistory()
    var lastLoss: Float?
    var savedStep: Int

    init(trainer: Trainer, run: RunDirectory, lock: RunLock, savedStep: Int = -1) {
        self.trainer = trainer
        self.run = run
        self.lock = lock
        self.savedStep = savedStep
    }

    var unsaved: Bool { trainer.step != savedStep && trainer.step > 0 }
}

/// The model bank: creating, training, saving and loading the models of each D.
extension StudioEngine {
    func startTraining(at d: AugmentedDimension) {
        if bank[d] == nil {
            guard let slot = makeSlot(.one(d), in: runDirectory(for: d), name: "at D=\(d)") else { return }
            bank[d] = slot
        }
        beginTraining(d, oneNetwork: false, message: "training D=\(d)")
        needsPreview = needsPreview || d == settings.augmentedDimension
    }

    /// A fresh model for `dimensions` in `run` with the studio's settings; nil (the reason in the message line) when
    /// it cannot be made.
    func makeSlot(_ dimensions: TrainedDimensions, in run: RunDirectory, name: String) -> ModelSlot? {
        var config = TrainingConfig(data: dataset.name, dim: dataset.dim, dimensions: dimensions,
                                    sigmaData: dataset.sigmaData, steps: 1_000_000_000)
        config.seed = settings.seed
        config.learningRate = learningRate
        do {
            try run.create()
            return ModelSlot(trainer: try Trainer(config: config, data: dataset.train), run: run, lock: try RunLock(run: run))
        } catch let error as StorageError {
            snapshot.message = "cannot train \(name): \(error.description)"
        } catch {
            snapshot.message = "cannot train \(name): \(error)"
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
        nextAutoPreview = Stopwatch.now() + 2
        snapshot.message = message
    }

    /// One step of the slot that trains; `name` says which in messages.
    func trainOneStep(_ slot: ModelSlot, _ name: String) {
        let loss = slot.trainer.trainStep()
        guard loss.isFinite else {
            training = nil
            trainingOneNetwork = false
            snapshot.message = "training \(name) diverged at step \(slot.trainer.step + 1) (loss \(loss)); paused on the last good weights"
            snapshot.warnings.append(snapshot.message)
            publish()
            return
        }
        slot.history.append(loss)
        slot.lastLoss = loss
        rateWindow.steps += 1
        let now = Stopwatch.now()
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
            snapshot.message = "nothing to save at D=\(d): no model trained there"
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
            snapshot.message = "saved \(name) at step \(slot.trainer.step) → \(slot.run.path)"
            return true
        } catch {
            snapshot.message = "save failed: \(error.description)"
            return false
        }
    }

    func runDirectory(for d: AugmentedDimension) -> RunDirectory {
        if let run = opened.first(where: { (try? $0.readConfig().augmentedDimension) == d }) { return run }
        return RunDirectory("\(runsFolder)/\(dataset.shortName)-D\(d)")
    }

    /// Loads the opened runs and earlier saved models of this data set into the bank.
    func loadSavedModels() {
        var loaded: [String] = []
        for d in snapshot.ladder {
            let run = runDirectory(for: d)
            // An opened run may name its data by a path of the machine it was trained on.
            let isOpened = opened.contains { $0.path == run.path }
            guard run.exists, let config = try? run.readConfig(), config.data == dataset.name || isOpened,
                  config.augmentedDimension == d else { continue }
            let lock: RunLock
            do { lock = try RunLock(run: run) } catch {
                snapshot.message = "not loaded: \(error.description)"
                continue
            }
            guard let trainer = try? run.resume(data: dataset.train) else { continue }
            let slot = ModelSlot(trainer: trainer, run: run, lock: lock, savedStep: trainer.step)
            slot.history = Self.history(logged: run.loggedLosses(), upTo: trainer.step)
            bank[d] = slot
            loaded.append("D=\(d)")
        }
        for run in opened {
            guard let config = try? run.readConfig(), let d = config.augmentedDimension, bank[d] == nil else { continue }
            snapshot.message = "\(run.path): cannot load the model"
            return
        }
        if loadOneNetwork() { loaded.append("one network") }
        if !loaded.isEmpty && !snapshot.message.hasPrefix("not loaded") {
            let steps = bank.values.map(\.trainer.step) + (oneNetwork.map { [$0.trainer.step] } ?? [])
            snapshot.message = "loaded \(loaded.joined(separator: ", ")) (step \(steps.max() ?? 0))"
        }
    }
}
