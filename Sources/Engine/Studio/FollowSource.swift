import Foundation

/// Follow mode's state apart from the engine: what is followed, the models found there so far,
/// who trains them, when to look again, and which model the preview shows.
public struct FollowSource {
    public let target: FollowTarget
    public private(set) var runs: [FollowedRun] = []
    /// Who trains the followed runs, as of the last poll.
    public private(set) var trainer = TrainerPresence.unknown
    private(set) var nextPoll = 0.0
    /// The followed model and step the preview shows ("" for none), to resample when it changes.
    var shown = ""

    public init(_ target: FollowTarget) { self.target = target }

    /// Finds new models and rereads what changed; the next poll is due a second later.
    public mutating func poll(now: Double) {
        nextPoll = now + 1
        discover()
        for run in runs { run.poll() }
        trainer = trainerPresence()
    }

    /// The followed model answering at D: the one network when it covers D and is in use, else the
    /// D's own (none with the oracle in use).
    public func answering(at d: AugmentedDimension, settings: StudioSettings) -> FollowedRun? {
        guard !settings.useOracle else { return nil }
        let candidates = runs.filter { $0.dimensions?.contains(d) == true && $0.model != nil }
        let one = candidates.first { $0.config.conditionsOnAugmentedDimension }
        if settings.useOneNetwork, let one { return one }
        return candidates.first { !$0.config.conditionsOnAugmentedDimension } ?? one
    }

    private mutating func discover() {
        switch target {
        case .run(let run):
            guard runs.isEmpty, let config = try? run.readConfig() else { return }
            runs = [FollowedRun(run: run, config: config)]
        case .sweep(let folder, let plan, let seed):
            let known = Set(runs.map(\.run.path))
            for (key, path) in Self.sweepModels(folder, plan: plan, seed: seed)
            where !known.contains(path) {
                let run = RunDirectory(path)
                guard let config = try? run.readConfig() else { continue }
                runs.removeAll { Self.sweepSeed($0.run.path).name == key }
                runs.append(FollowedRun(run: run, config: config))
            }
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
    public var focus: FollowedRun? { runs.max { $0.lastChange < $1.lastChange } }

    public func status(now: Double) -> FollowStatus {
        let focus = focus
        let model =
            focus.map { Self.name(of: $0) + ($0.model == nil ? " (no checkpoint yet)" : "") }
            ?? "no model yet"
        return FollowStatus(
            path: target.path, model: model, step: focus?.step ?? 0,
            stepsPerSecond: focus?.stepsPerSecond ?? 0,
            secondsSinceChange: focus.map { now - $0.lastChange } ?? 0, trainer: trainer,
            finished: focus.map { $0.checkpointStep >= $0.config.steps } ?? false,
            problem: runs.compactMap(\.problem).first)
    }

    /// Who trains the focus, read at each poll: a sweep trains its models in one process, which
    /// locks the sweep's folder; a run is locked in its own.
    private func trainerPresence() -> TrainerPresence {
        guard let focus else { return .unknown }
        if case .sweep(let folder, _, _) = target { return .of(lockPath: folder + "/.lock") }
        return .of(lockPath: focus.run.path + "/.lock")
    }

    static func name(of run: FollowedRun) -> String {
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
}
