import Foundation

/// What `pfgm studio --follow` watches: one run directory, or a sweep folder whose models appear as
/// it runs.
public enum FollowTarget: Sendable {
    case run(RunDirectory)
    /// The sweep's folder and plan; `seed` pins one seed's models, else each D shows its newest
    /// seed.
    case sweep(folder: String, plan: SweepPlan, seed: Int?)

    public var path: String {
        switch self {
        case .run(let run): run.path
        case .sweep(let folder, _, _): folder
        }
    }

    /// The D the target's models train at, known before any model exists.
    var dimensions: [AugmentedDimension] {
        switch self {
        case .run(let run):
            (try? run.readConfig().augmentedDimension).flatMap { $0.map { [$0] } } ?? []
        case .sweep(_, let plan, _): plan.oneNetwork == nil ? plan.augmentedDimensions : []
        }
    }
}

/// What the status line says about a followed run.
public struct FollowStatus: Sendable, Equatable {
    public var path: String
    /// The model the loss panel shows (the one that changed last), e.g. "D=128" or "D=8 seed 1".
    public var model: String
    public var step: Int
    public var stepsPerSecond: Double
    public var secondsSinceChange: Double
    public var trainer: TrainerPresence
    public var finished: Bool
    /// A read that failed (and is retried), or the folder gone.
    public var problem: String?

    public init(
        path: String, model: String, step: Int, stepsPerSecond: Double, secondsSinceChange: Double,
        trainer: TrainerPresence, finished: Bool, problem: String? = nil
    ) {
        (self.path, self.model, self.step, self.stepsPerSecond) = (
            path, model, step, stepsPerSecond
        )
        (self.secondsSinceChange, self.trainer) = (secondsSinceChange, trainer)
        (self.finished, self.problem) = (finished, problem)
    }
}

/// Follow mode: the studio as a read-only monitor of runs written elsewhere.
extension StudioEngine {
    var isFollowing: Bool { follow != nil }

    /// Whether background sampling (image metrics, probes) yields to training: the studio's own, or
    /// a followed trainer on this machine.
    var pacesBackgroundWork: Bool {
        if isTraining { return true }
        if case .running = followTrainer { return true }
        return false
    }

    /// Finds new models, rereads what changed, and resamples when the shown model got new weights.
    func pollFollowed() {
        nextFollowPoll = Stopwatch.now() + 1
        discoverFollowed()
        for run in followed { run.poll() }
        followTrainer = followTrainerPresence()
        // New weights at the shown D: resample — at once when the preview shows no followed weights
        // yet, else with a trainer on this machine no more often than the studio's own training
        // previews (19× the last preview's time apart, which after a slow oracle preview and its
        // metrics can be a minute).
        let key = followKey(at: settings.augmentedDimension)
        if key != followShown,
            followShown.isEmpty || !pacesBackgroundWork || Stopwatch.now() >= nextAutoPreview
        {
            needsPreview = true
        }
        publish()
    }

    /// Which followed model and step answer at D ("" for none): the preview is redrawn when it
    /// changes.
    func followKey(at d: AugmentedDimension) -> String {
        followedAnswering(at: d).map { "\($0.run.path)@\($0.checkpointStep)" } ?? ""
    }

    /// The followed model answering at D: the one network when it covers D and is in use, else the
    /// D's own.
    func followedAnswering(at d: AugmentedDimension) -> FollowedRun? {
        guard !settings.useOracle else { return nil }
        let candidates = followed.filter { $0.dimensions?.contains(d) == true && $0.model != nil }
        let one = candidates.first { $0.config.conditionsOnAugmentedDimension }
        if settings.useOneNetwork, let one { return one }
        return candidates.first { !$0.config.conditionsOnAugmentedDimension } ?? one
    }

    private func discoverFollowed() {
        switch follow {
        case .run(let run)?:
            guard followed.isEmpty, let config = try? run.readConfig() else { return }
            followed = [FollowedRun(run: run, config: config)]
        case .sweep(let folder, let plan, let seed)?:
            let known = Set(followed.map(\.run.path))
            for (key, path) in Self.sweepModels(folder, plan: plan, seed: seed)
            where !known.contains(path) {
                let run = RunDirectory(path)
                guard let config = try? run.readConfig() else { continue }
                followed.removeAll { Self.sweepSeed($0.run.path).name == key }
                followed.append(FollowedRun(run: run, config: config))
            }
        case nil:
            return
        }
    }

    /// The sweep's model folders that exist: per D (or the one network), the pinned seed or the
    /// newest one.
    static func sweepModels(_ folder: String, plan: SweepPlan, seed: Int?) -> [(
        key: String, path: String
    )] {
        let seeds = seed.map { [$0] } ?? Array((0..<plan.seeds).reversed())
        let keys = plan.oneNetwork == nil ? plan.augDims : [""]
        return keys.compactMap { d in
            for s in seeds {
                let path = "\(folder)/models/" + plan.modelFolder(d, seed: s)
                if FileManager.default.fileExists(atPath: path + "/config.json") {
                    return (sweepSeed(path).name, path)
                }
            }
            return nil
        }
    }

    /// The followed model that changed last: what the loss panel and the status line show.
    var followFocus: FollowedRun? { followed.max { $0.lastChange < $1.lastChange } }

    func followStatus() -> FollowStatus? {
        guard let follow else { return nil }
        let focus = followFocus
        let now = Stopwatch.now()
        let model =
            focus.map { Self.followedName($0) + ($0.model == nil ? " (no checkpoint yet)" : "") }
            ?? "no model yet"
        return FollowStatus(
            path: follow.path, model: model, step: focus?.step ?? 0,
            stepsPerSecond: focus?.stepsPerSecond ?? 0,
            secondsSinceChange: focus.map { now - $0.lastChange } ?? 0, trainer: followTrainer,
            finished: focus.map { $0.checkpointStep >= $0.config.steps } ?? false,
            problem: followed.compactMap(\.problem).first)
    }

    /// Who trains the focus, read at each poll: a sweep trains its models in one process, which
    /// locks the sweep's folder; a run is locked in its own.
    private func followTrainerPresence() -> TrainerPresence {
        guard let focus = followFocus else { return .unknown }
        if case .sweep(let folder, _, _) = follow { return .of(lockPath: folder + "/.lock") }
        return .of(lockPath: focus.run.path + "/.lock")
    }

    static func followedName(_ run: FollowedRun) -> String {
        let what =
            run.config.augmentedDimension.map { "D=\($0)" } ?? "one network \(run.config.augDim)"
        return what + (sweepSeed(run.run.path).seed.map { " seed \($0)" } ?? "")
    }

    /// A sweep model's folder name split at its seed ("…/D128-s2" → ("D128", 2)); other names
    /// whole, no seed.
    static func sweepSeed(_ path: String) -> (name: String, seed: Int?) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let cut = name.range(of: "-s", options: .backwards),
            let seed = Int(name[cut.upperBound...])
        else {
            return (name, nil)
        }
        return (String(name[..<cut.lowerBound]), seed)
    }

    /// `s` while following: copies the shown model into the runs folder (never into the followed
    /// one), whole or not at all, so the bank of a later `pfgm studio` has it.
    func copyFollowed() {
        let d = settings.augmentedDimension
        guard let source = followedAnswering(at: d) else {
            say("nothing followed answers at D=\(d) yet")
            return
        }
        let name =
            dataset.shortName
            + (source.config.conditionsOnAugmentedDimension ? "-one" : "-D\(source.config.augDim)")
        let target = "\(runsFolder)/\(name)"
        guard !FileManager.default.fileExists(atPath: target) else {
            say("\(target) exists; not replaced (move it away to copy again)", .problem)
            return
        }
        do {
            try Self.copyRun(
                source.run, to: target, scratch: "\(runsFolder)/.\(name).tmp-\(getpid())")
            say(
                "copied \(Self.followedName(source)) (step \(source.checkpointStep)) → \(target); "
                    + "pfgm studio --ckpt \(target) trains it on")
        } catch {
            say("copy failed: \(error.description)", .problem)
        }
    }

    /// Copies a run's files into `scratch`, then renames it to `target`; a failure leaves nothing
    /// behind.
    static func copyRun(_ run: RunDirectory, to target: String, scratch: String)
        throws(StorageError)
    {
        let copy = RunDirectory(scratch)
        try copy.create()
        do {
            for (from, to, required) in [
                (run.configPath, copy.configPath, true),
                (run.checkpointPath, copy.checkpointPath, true),
                (run.optimizerPath, copy.optimizerPath, false),
                (run.statsPath, copy.statsPath, false),
            ] {
                if !required && !FileManager.default.fileExists(atPath: from) { continue }
                try AtomicFile.write(try AtomicFile.read(from), to: to)
            }
            guard rename(scratch, target) == 0 else {
                throw StorageError(target, String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw (error as? StorageError) ?? StorageError(target, "\(error)")
        }
    }
}
