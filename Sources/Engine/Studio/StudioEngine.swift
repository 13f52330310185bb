import Foundation
import Synchronization

/// The studio's engine: owns the data, the model bank (one model per D) and the solver, and runs on
/// its own thread. The UI sends commands through a mutex-guarded inbox and reads the latest
/// snapshot without waiting; training proceeds step by step and commands apply between steps.
///
/// It is an actor on a dedicated thread (its executor) so that the compiler keeps its state to
/// that thread; `run` is one synchronous loop that never awaits and returns only on quit. So no
/// other isolated call could ever run before quit, and none is public: everything the UI may
/// call is `nonisolated` and waits on nothing but a mutex (`send`, `latest`, `hasStopped`,
/// `start`). A feature added here keeps to that: its state is isolated, its entry a command.
public actor StudioEngine {
    public static let previewPoints = 800
    public static let previewImages = 36

    private nonisolated let executor = ThreadExecutor(name: "pfgm-engine")
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }
    private nonisolated let inbox = Mutex<[StudioCommand]>([])
    private nonisolated let wake = DispatchSemaphore(value: 0)
    private nonisolated let published: Mutex<Snapshot>
    private nonisolated let done = Mutex(false)

    let dataset: Dataset
    let projection: Projection?
    let runsFolder: String
    /// Run directories to load into the bank at their D (one from `--ckpt`, or one per D of a
    /// sweep).
    let opened: [RunDirectory]
    let learningRate: Double
    /// EDM's schedules for the models the studio makes (default: `pfgm`'s own).
    let schedule: TrainingSchedule
    /// How a new one network draws D (default: `pfgm train`'s).
    let draws: OneNetworkDraws
    /// What a read-only studio follows (`--follow`), and the models found there so far.
    var follow: FollowSource?
    var snapshot: Snapshot
    var settings: StudioSettings
    var bank: [AugmentedDimension: ModelSlot] = [:]
    /// One network for every D of the slider, when opened or trained here.
    var oneNetwork: ModelSlot?
    var training: AugmentedDimension?
    var trainingOneNetwork = false
    var preview = PreviewPacing()
    var lastPublish = 0.0
    var rateWindow = (start: 0.0, steps: 0)
    var oracles: OracleCache
    /// Image metrics: the fd-fmnist classifier (arriving from its own thread), and the batch being
    /// sampled.
    var frechetLoader: FrechetLoader?
    var frechet: ImageFrechet?
    var imageBatches = ImageBatchQueue()
    /// The probes view: open or not, the models still to measure, and every finished curve by model
    /// and step.
    var probes = ProbeQueue()
    /// The coupled view: open or not, and the grid in progress.
    var coupled = CoupledQueue()
    /// The nearest-images view: open or not, and the training images it searches with held-out
    /// data's median nearest distance (taken when first opened).
    var showsNearest = false
    var nearestTraining: (rows: Matrix, threshold: Double)?
    /// SWD and MMD² of point previews, beside their floors.
    var pointMetrics: PointMetrics

    /// `opened` are run directories to load into the bank at their D; `runsFolder` is where new
    /// models are saved; `sweepLines` is a sweep's tables, for the sweep view. New models train
    /// with `learningRate` (the other settings are `pfgm train`'s defaults). With `follow`, the
    /// studio trains nothing and only watches.
    public init(
        dataset: Dataset, settings: StudioSettings, runsFolder: String, opened: [RunDirectory] = [],
        sweepLines: [String] = [], learningRate: Double = 1e-3,
        schedule: TrainingSchedule = TrainingSchedule(), draws: OneNetworkDraws = OneNetworkDraws(),
        follow: FollowTarget? = nil
    ) {
        self.dataset = dataset
        self.follow = follow.map(FollowSource.init)
        self.learningRate = learningRate
        self.schedule = schedule
        self.draws = draws
        self.settings = settings
        self.runsFolder = runsFolder
        self.opened = opened
        oracles = OracleCache(dataset: dataset)
        pointMetrics = PointMetrics(dataset: dataset)
        let kind: PreviewKind
        if let image = dataset.imageShape {
            kind = .image(side: image.side, channels: image.channels)
            projection = nil
        } else if dataset.dim == 2 {
            kind = .plane
            projection = nil
        } else {
            projection = Projection(data: dataset.train)
            kind = projection == nil ? .plane : .projection
        }
        let view = Self.screenPoints(
            dataset.train.rows(0..<min(dataset.train.rows, 2000)), projection)
        var snapshot = Snapshot(
            dataName: dataset.shortName, dim: dataset.dim, sigmaData: dataset.sigmaData, kind: kind,
            bounds: Self.bounds(view), overlay: view,
            ladder: Self.ladder(
                dim: dataset.dim,
                including: opened.compactMap { try? $0.readConfig().augmentedDimension }
                    + (follow?.dimensions ?? [])),
            settings: settings)
        snapshot.sweep = sweepLines
        snapshot.message =
            follow.map {
                "following \($0.path) (read-only; s copies the shown model into \(runsFolder)/)"
            }
            ?? "press space to train, ? for help"
        self.snapshot = snapshot
        published = Mutex(snapshot)
    }

    /// Puts `text` on the message line as news, a saved model, or a problem.
    func say(_ text: String, _ kind: MessageKind = .news) {
        snapshot.message = text
        snapshot.messageKind = kind
    }

    /// 1, 2, 4, …, 2048, with N and the opened models' D inserted, then ∞.
    public static func ladder(dim: Int, including extra: [AugmentedDimension] = [])
        -> [AugmentedDimension]
    {
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

    func run() {
        startImageMetrics()
        if isFollowing { pollFollowed() } else { loadSavedModels() }
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
            if let follow, Stopwatch.now() >= follow.nextPoll { pollFollowed() }
            if preview.isDue(now: Stopwatch.now(), training: isTraining) {
                makePreview()
                publish()
                continue
            }
            if probeDue {
                measureProbePoint()
                continue
            }
            if coupledDue {
                sampleCoupledPanel()
                continue
            }
            if imageBatchDue {
                sampleImageChunk()
                continue
            }
            if trainingOneNetwork, let one = oneNetwork {
                trainOneStep(one, "the one network")
            } else if let d = training, let slot = bank[d] {
                trainOneStep(slot, "D=\(d)")
            } else {
                _ = wake.wait(timeout: .now() + .milliseconds(isFollowing ? 250 : 500))
                if frechet == nil && snapshot.imageMetrics?.metric == .frechet {
                    _ = frechetReady()
                    publish()
                }
            }
        }
    }

    var isTraining: Bool { training != nil || trainingOneNetwork }

    private func stop() {
        training = nil
        trainingOneNetwork = false
        snapshot.state = .saving
        publish()
        let unsaved = bank.filter { $0.value.unsaved }.keys.sorted()
        var failed = unsaved.filter { !save($0) }.map(\.description)
        let oneUnsaved = oneNetwork?.unsaved == true
        if oneUnsaved && !saveOneNetwork() { failed.append("one network") }
        snapshot.state = .stopped
        let saved = unsaved.map { "D=\($0)" } + (oneUnsaved ? ["the one network"] : [])
        if !saved.isEmpty && failed.isEmpty {
            say("saved \(saved.joined(separator: ", "))", .saved)
        }
        publish()
        bank.removeAll()
        oneNetwork = nil
        frechetLoader?.stop()
        done.withLock { $0 = true }
    }

    private func apply(_ command: StudioCommand) {
        if applyShared(command) { return }
        if isFollowing { return applyFollowing(command) }
        switch command {
        case .toggleTraining:
            if isTraining {
                training = nil
                trainingOneNetwork = false
                say("paused")
            } else if snapshot.trainingOneNetwork {
                startOneNetwork()
            } else {
                startTraining(at: snapshot.trainingDimension ?? settings.augmentedDimension)
            }
        case .trainShown:
            startTraining(at: settings.augmentedDimension)
        case .trainOneNetwork:
            startOneNetwork()
        case .save:
            if oneNetworkAnswering(at: settings.augmentedDimension) != nil {
                saveOneNetwork()
            } else {
                save(settings.augmentedDimension)
            }
        default:
            break
        }
    }

    /// Following, the studio writes nothing but copies: training keys say so, `s` copies the shown
    /// model.
    private func applyFollowing(_ command: StudioCommand) {
        switch command {
        case .toggleTraining, .trainShown, .trainOneNetwork:
            say(
                """
                following \(follow?.target.path ?? "") is read-only: s copies the shown model into \
                \(runsFolder)/ to train it there
                """)
        case .save:
            copyFollowed()
        default:
            break
        }
    }

    /// What the settings and the views do, the same whether following or not; false for the other
    /// commands.
    private func applyShared(_ command: StudioCommand) -> Bool {
        switch command {
        case .apply(let s), .resample(let s): applySettings(s)
        case .probes(let open): setProbes(open: open)
        case .coupled(let open): setCoupled(open: open)
        case .nearest(let open): setNearest(open: open)
        case .export(let view): export(view)
        default: return false
        }
        return true
    }

    /// New settings: resample, and refresh open probes when what they depend on moved (D, seed, σ
    /// range).
    private func applySettings(_ s: StudioSettings) {
        let moved =
            s.augmentedDimension != settings.augmentedDimension || s.seed != settings.seed
            || s.sigmaMin != settings.sigmaMin || s.sigmaMax != settings.sigmaMax
            || s.quantScheme != settings.quantScheme
        settings = s
        preview.ask()
        if probes.isOpen && moved { setProbes(open: true) }
    }

    // MARK: Publishing

    func publish() {
        lastPublish = Stopwatch.now()
        snapshot.version += 1
        snapshot.settings = settings
        if snapshot.state != .saving && snapshot.state != .stopped {
            snapshot.state = isTraining ? .training : isFollowing ? .following : .paused
        }
        if isFollowing { return publishFollowing() }
        let shown =
            oneNetworkAnswering(at: settings.augmentedDimension)
            ?? bank[settings.augmentedDimension]
        let trained =
            snapshot.trainingOneNetwork
            ? oneNetwork : snapshot.trainingDimension.flatMap { bank[$0] }
        let focus = trained ?? shown
        snapshot.step = focus?.trainer.step ?? 0
        snapshot.lastLoss = focus?.lastLoss
        snapshot.loss = focus?.history ?? LossHistory()
        snapshot.bank = bank.map {
            BankEntry(augmentedDimension: $0.key, step: $0.value.trainer.step)
        }
        .sorted { $0.augmentedDimension < $1.augmentedDimension }
        snapshot.losses =
            bank.sorted { $0.key < $1.key }.map {
                ModelLoss(augmentedDimension: $0.key, history: $0.value.history)
            } + (oneNetwork.map { [ModelLoss(augmentedDimension: nil, history: $0.history)] } ?? [])
        snapshot.oneNetwork = oneNetwork.flatMap { slot in
            guard case .range(let range) = slot.trainer.dimensions else { return nil }
            return OneNetworkEntry(range: range, step: slot.trainer.step)
        }
        if !isTraining { snapshot.stepsPerSecond = 0 }
        let copy = snapshot
        published.withLock { $0 = copy }
    }

    private func publishFollowing() {
        let focus = follow?.focus
        snapshot.follow = follow?.status(now: Stopwatch.now())
        snapshot.step = focus?.step ?? 0
        snapshot.lastLoss = focus?.lastLoss
        snapshot.loss = focus?.history ?? LossHistory()
        snapshot.stepsPerSecond = focus?.stepsPerSecond ?? 0
        let followed = follow?.runs ?? []
        snapshot.bank = followed.filter { !$0.config.conditionsOnAugmentedDimension }.compactMap {
            run in
            run.config.augmentedDimension.map { BankEntry(augmentedDimension: $0, step: run.step) }
        }.sorted { $0.augmentedDimension < $1.augmentedDimension }
        snapshot.losses = followed.map { run in
            ModelLoss(
                augmentedDimension: run.config.conditionsOnAugmentedDimension
                    ? nil : run.config.augmentedDimension,
                history: run.history)
        }.sorted { ($0.augmentedDimension ?? .infinite) < ($1.augmentedDimension ?? .infinite) }
        snapshot.oneNetwork =
            followed.lazy.compactMap { run -> OneNetworkEntry? in
                guard case .range(let range)? = run.dimensions else { return nil }
                return OneNetworkEntry(range: range, step: run.step)
            }.first
        let copy = snapshot
        published.withLock { $0 = copy }
    }

    /// A loss history rebuilt from a run's logged lines, up to step `last`.
    static func history(logged: [StatsLine], upTo last: Int) -> LossHistory {
        var history = LossHistory()
        var previous = 0
        for line in logged where line.step <= last {
            previous = history.extend(with: line, after: previous)
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
            let lo = v[Int(Double(v.count - 1) * 0.005)]
            let hi = v[Int(Double(v.count - 1) * 0.995)]
            let pad = max(hi - lo, 1e-3) * 0.1
            return (lo - pad, hi + pad)
        }
        let (x0, x1) = range(0)
        let (y0, y1) = range(1)
        return (x0, x1, y0, y1)
    }
}
