import Foundation
import Synchronization

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

/// The studio's engine: owns the data, the model bank (one model per D) and the solver, and runs on
/// its own thread. The UI sends commands through a mutex-guarded inbox and reads the latest
/// snapshot without waiting; training proceeds step by step and commands apply between steps.
public actor StudioEngine {
    public static let previewPoints = 800
    public static let previewImages = 36

    private nonisolated let executor = ThreadExecutor(name: "pfgm-engine")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private nonisolated let inbox = Mutex<[StudioCommand]>([])
    private nonisolated let wake = DispatchSemaphore(value: 0)
    private nonisolated let published: Mutex<Snapshot>
    private nonisolated let done = Mutex(false)

    let dataset: Dataset
    let projection: Projection?
    let runsFolder: String
    /// Run directories to load into the bank at their D (one from `--ckpt`, or one per D of a sweep).
    let opened: [RunDirectory]
    let learningRate: Double
    var snapshot: Snapshot
    var settings: StudioSettings
    var bank: [AugmentedDimension: ModelSlot] = [:]
    var training: AugmentedDimension?
    var needsPreview = true
    var nextAutoPreview = 0.0
    var lastPublish = 0.0
    var rateWindow = (start: 0.0, steps: 0)
    var oracle: (AugmentedDimension, OracleDenoiser)?
    var floors: (swd: Double, mmd: Double, bandwidths: [Double], reference: Matrix)?

    /// `opened` are run directories to load into the bank at their D; `runsFolder` is where new models are saved;
    /// `sweepLines` is a sweep's tables, for the sweep view. New models train with `learningRate` (the other
    /// settings are `pfgm train`'s defaults).
    public init(dataset: Dataset, settings: StudioSettings, runsFolder: String, opened: [RunDirectory] = [],
                sweepLines: [String] = [], learningRate: Double = 1e-3) {
        self.dataset = dataset
        self.learningRate = learningRate
        self.settings = settings
        self.runsFolder = runsFolder
        self.opened = opened
        let kind: PreviewKind
        if let side = dataset.imageSide {
            kind = .image(side: side)
            projection = nil
        } else if dataset.dim == 2 {
            kind = .plane
            projection = nil
        } else {
            projection = Projection(data: dataset.train)
            kind = projection == nil ? .plane : .projection
        }
        let view = Self.screenPoints(dataset.train.rows(0..<min(dataset.train.rows, 2000)), projection)
        var snapshot = Snapshot(dataName: dataset.shortName, dim: dataset.dim, sigmaData: dataset.sigmaData, kind: kind,
                                bounds: Self.bounds(view), overlay: view,
                                ladder: Self.ladder(dim: dataset.dim, including: opened.compactMap { try? $0.readConfig().augmentedDimension }),
                                settings: settings)
        snapshot.sweep = sweepLines
        snapshot.message = "press space to train, ? for help"
        self.snapshot = snapshot
        published = Mutex(snapshot)
    }

    /// 1, 2, 4, …, 2048, with N and the opened models' D inserted, then ∞.
    public static func ladder(dim: Int, including extra: [AugmentedDimension] = []) -> [AugmentedDimension] {
        var values = Set((0...11).map { Double(1 << $0) })
        values.insert(Double(dim))
        for case .finite(let d) in extra { values.insert(d) }
        return values.sorted().map { .finite($0) } + [.infinite]
    }

    // MARK: What the UI calls (any thread, never waits on the engine)

    /// Starts `run` on the engine's own thread, without needing a free thread of the shared pool.
    public nonisolated func start() {
        Task.detached(executorPreference: executor) { await self.run() }
    }

    public nonisolated func send(_ command: StudioCommand) {
        inbox.withLock { $0.append(command) }
        wake.signal()
    }

    public nonisolated var latest: Snapshot { published.withLock { $0 } }

    nonisolated var hasPendingCommands: Bool { inbox.withLock { !$0.isEmpty } }

    /// True once `run` has returned (after a quit, with the models saved).
    public nonisolated var hasStopped: Bool { done.withLock { $0 } }

    // MARK: The loop, on the engine's thread

    public func run() {
        loadSavedModels()
        publish()
        while true {
            let commands = inbox.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
            for command in commands {
                if case .quit = command {
                    stop()
                    return
                }
                apply(command)
            }
            if !commands.isEmpty { publish() }
            if needsPreview || (training != nil && Stopwatch.now() >= nextAutoPreview) {
                makePreview()
                publish()
                continue
            }
            if let d = training, let slot = bank[d] {
                trainOneStep(slot, d)
            } else {
                _ = wake.wait(timeout: .now() + .milliseconds(500))
            }
        }
    }

    private func stop() {
        training = nil
        snapshot.state = .saving
        publish()
        let unsaved = bank.filter { $0.value.unsaved }.keys.sorted()
        let failed = unsaved.filter { !save($0) }
        snapshot.state = .stopped
        if !unsaved.isEmpty && failed.isEmpty { snapshot.message = "saved D=\(unsaved.map(\.description).joined(separator: ", "))" }
        publish()
        bank.removeAll()
        done.withLock { $0 = true }
    }

    private func apply(_ command: StudioCommand) {
        switch command {
        case .toggleTraining:
            if training != nil {
                training = nil
                snapshot.message = "paused"
            } else {
                startTraining(at: snapshot.trainingDimension ?? settings.augmentedDimension)
            }
        case .trainShown:
            startTraining(at: settings.augmentedDimension)
        case .apply(let s), .resample(let s):
            settings = s
            needsPreview = true
        case .save:
            save(settings.augmentedDimension)
        case .quit:
            break
        }
    }

    private func startTraining(at d: AugmentedDimension) {
        if bank[d] == nil {
            var config = TrainingConfig(data: dataset.name, dim: dataset.dim, augmentedDimension: d,
                                        sigmaData: dataset.sigmaData, steps: 1_000_000_000)
            config.seed = settings.seed
            config.learningRate = learningRate
            let run = runDirectory(for: d)
            do {
                try run.create()
                bank[d] = ModelSlot(trainer: try Trainer(config: config, data: dataset.train), run: run, lock: try RunLock(run: run))
            } catch let error as StorageError {
                snapshot.message = "cannot train at D=\(d): \(error.description)"
                return
            } catch {
                snapshot.message = "cannot train at D=\(d): \(error)"
                return
            }
        }
        training = d
        snapshot.trainingDimension = d
        rateWindow = (Stopwatch.now(), 0)
        nextAutoPreview = Stopwatch.now() + 2
        snapshot.message = "training D=\(d)"
        needsPreview = needsPreview || d == settings.augmentedDimension
    }

    private func trainOneStep(_ slot: ModelSlot, _ d: AugmentedDimension) {
        let loss = slot.trainer.trainStep()
        guard loss.isFinite else {
            training = nil
            snapshot.message = "training D=\(d) diverged at step \(slot.trainer.step + 1) (loss \(loss)); paused on the last good weights"
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
    private func save(_ d: AugmentedDimension) -> Bool {
        guard let slot = bank[d] else {
            snapshot.message = "nothing to save at D=\(d): no model trained there"
            return false
        }
        do {
            try slot.run.create()
            try slot.run.writeConfig(slot.trainer.config)
            try slot.run.save(slot.trainer)
            slot.savedStep = slot.trainer.step
            snapshot.message = "saved D=\(d) at step \(slot.trainer.step) → \(slot.run.path)"
            return true
        } catch {
            snapshot.message = "save failed: \(error.description)"
            return false
        }
    }

    private func runDirectory(for d: AugmentedDimension) -> RunDirectory {
        if let run = opened.first(where: { (try? $0.readConfig().augmentedDimension) == d }) { return run }
        return RunDirectory("\(runsFolder)/\(dataset.shortName)-D\(d)")
    }

    /// Loads the opened runs and earlier saved models of this data set into the bank.
    private func loadSavedModels() {
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
        if !loaded.isEmpty && !snapshot.message.hasPrefix("not loaded") { snapshot.message = "loaded \(loaded.joined(separator: ", ")) (step \(bank.values.map { $0.trainer.step }.max() ?? 0))" }
    }

    // MARK: Preview

    private func makePreview() {
        needsPreview = false
        let start = Stopwatch.now()
        snapshot.state = .sampling
        let d = settings.augmentedDimension
        let (denoiser, source, step) = previewDenoiser(d)
        let count = snapshot.kind.isImage ? Self.previewImages : Self.previewPoints
        var rng = RandomSource(seed: settings.seed)
        // A model's prior is cut where its training kernel was; the oracle's is whole.
        let truncation = denoiser is OracleDenoiser ? nil : bank[d]?.trainer.truncation
        var x = Perturbation.prior(count: count, dim: dataset.dim, augmentedDimension: d, sigma: settings.sigmaMax,
                                   truncation: truncation, rng: &rng)
        var trajectory = [Self.screenPoints(x, projection)], sigmas = [settings.sigmaMax]
        let interrupted = Sampler(schedule: settings.schedule, solver: settings.solver, alpha: settings.alpha)
            .run(&x, denoiser: denoiser, rng: &rng, observe: { [projection] xs, sigma in
                trajectory.append(Self.screenPoints(xs, projection))
                sigmas.append(sigma)
            }, shouldStop: { self.hasPendingCommands })
        if interrupted {
            needsPreview = true
            return
        }
        let seconds = Stopwatch.now() - start
        snapshot.preview = Preview(points: Self.screenPoints(x, projection), trajectory: trajectory, trajectorySigmas: sigmas,
                                   source: source, settings: settings, seconds: seconds)
        if !snapshot.kind.isImage { measure(x, d: d, source: source, step: step) }
        let total = Stopwatch.now() - start
        nextAutoPreview = Stopwatch.now() + max(3, 19 * total)
    }

    private func previewDenoiser(_ d: AugmentedDimension) -> (Denoiser, String, Int) {
        if !settings.useOracle, let slot = bank[d] {
            let model = slot.trainer.emaDenoiser()
            if settings.bits < 32 { model.network.parameters = Quantization.quantized(model.network.parameters, bits: settings.bits) }
            return (model, "model D=\(d), step \(slot.trainer.step)", slot.trainer.step)
        }
        let label = bank[d] == nil ? "oracle (no model at D=\(d); t trains one)" : "oracle"
        if let (cached, denoiser) = oracle, cached == d { return (denoiser, label, 0) }
        let k = snapshot.kind.isImage ? 300 : 1000
        let denoiser = OracleDenoiser(points: dataset.train.rows(0..<min(k, dataset.train.rows)), augmentedDimension: d)
        oracle = (d, denoiser)
        return (denoiser, label, 0)
    }

    private func measure(_ x: Matrix, d: AugmentedDimension, source: String, step: Int) {
        guard x.storage.allSatisfy({ $0.isFinite }) else { return }
        if floors == nil {
            let k = x.rows
            let reference = dataset.heldOut.rows(0..<min(k, dataset.heldOut.rows))
            let a = dataset.draw(count: k, seed: 101), b = dataset.draw(count: k, seed: 102)
            let h = MMD.bandwidths(for: reference)
            floors = (SlicedWasserstein.distance(a, b), MMD.distance(a, b, bandwidths: h), h, reference)
        }
        guard let floors else { return }
        let row = MetricRow(augmentedDimension: d, source: source.hasPrefix("oracle") ? "oracle" : "model", step: step,
                            swd: SlicedWasserstein.distance(x, floors.reference), swdFloor: floors.swd,
                            mmd: MMD.distance(x, floors.reference, bandwidths: floors.bandwidths), mmdFloor: floors.mmd)
        snapshot.metrics.removeAll { $0.augmentedDimension == d && $0.source == row.source }
        snapshot.metrics.append(row)
        snapshot.metrics.sort { $0.augmentedDimension < $1.augmentedDimension }
    }

    // MARK: Publishing

    private func publish() {
        lastPublish = Stopwatch.now()
        snapshot.version += 1
        snapshot.settings = settings
        if snapshot.state != .saving && snapshot.state != .stopped {
            snapshot.state = training == nil ? .paused : .training
        }
        let shown = bank[settings.augmentedDimension]
        let trained = snapshot.trainingDimension.flatMap { bank[$0] }
        let focus = trained ?? shown
        snapshot.step = focus?.trainer.step ?? 0
        snapshot.lastLoss = focus?.lastLoss
        snapshot.loss = focus?.history ?? LossHistory()
        snapshot.bank = bank.map { BankEntry(augmentedDimension: $0.key, step: $0.value.trainer.step) }
            .sorted { $0.augmentedDimension < $1.augmentedDimension }
        if training == nil { snapshot.stepsPerSecond = 0 }
        let copy = snapshot
        published.withLock { $0 = copy }
    }

    /// A loss history rebuilt from a run's logged window means: each mean stands for every step of its window.
    static func history(logged: [(step: Int, loss: Double)], upTo last: Int) -> LossHistory {
        var history = LossHistory(), previous = 0
        for (step, loss) in logged where step > previous && step <= last {
            for _ in previous..<step { history.append(Float(loss)) }
            previous = step
        }
        return history
    }

    static func screenPoints(_ x: Matrix, _ projection: Projection?) -> Matrix {
        guard let projection else { return x }
        return projection.apply(x)
    }

    /// The central 99% of the points in each screen axis, widened by 10%.
    static func bounds(_ m: Matrix) -> (Double, Double, Double, Double) {
        guard m.cols >= 2, m.rows > 0 else { return (-1, 1, -1, 1) }
        func range(_ c: Int) -> (Double, Double) {
            let v = (0..<m.rows).map { Double(m[$0, c]) }.sorted()
            let lo = v[Int(Double(v.count - 1) * 0.005)], hi = v[Int(Double(v.count - 1) * 0.995)]
            let pad = max(hi - lo, 1e-3) * 0.1
            return (lo - pad, hi + pad)
        }
        let (x0, x1) = range(0), (y0, y1) = range(1)
        return (x0, x1, y0, y1)
    }
}
