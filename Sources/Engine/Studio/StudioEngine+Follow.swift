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

/// Follow mode in the engine: polling, resampling when the shown model changes, and copies.
extension StudioEngine {
    var isFollowing: Bool { follow != nil }

    /// Whether background sampling (image metrics, probes) yields to training: the studio's own, or
    /// a followed trainer on this machine.
    var pacesBackgroundWork: Bool {
        if isTraining { return true }
        if case .running? = follow?.trainer { return true }
        return false
    }

    /// Finds new models, rereads what changed, and resamples when the shown model got new weights.
    func pollFollowed() {
        follow?.poll(now: Stopwatch.now())
        // New weights at the shown D: resample — at once when the preview shows no followed weights
        // yet, else with a trainer on this machine no more often than the studio's own training
        // previews (19× the last preview's time apart, which after a slow oracle preview and its
        // metrics can be a minute).
        let shown = follow?.shown ?? ""
        if followKey(at: settings.augmentedDimension) != shown,
            shown.isEmpty || !pacesBackgroundWork || preview.automaticDue(now: Stopwatch.now())
        {
            preview.ask()
        }
        publish()
    }

    /// Which followed model and step answer at D ("" for none): the preview is redrawn when it
    /// changes.
    func followKey(at d: AugmentedDimension) -> String {
        followedAnswering(at: d).map { "\($0.run.path)@\($0.checkpointStep)" } ?? ""
    }

    func followedAnswering(at d: AugmentedDimension) -> FollowedRun? {
        follow?.answering(at: d, settings: settings)
    }

    static func followedName(_ run: FollowedRun) -> String { FollowSource.name(of: run) }

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
