import Foundation

/// The probes view (`g`): the paper's robustness curves, the metric against noise injection α,
/// weight bits and NFE, for the shown D's model and beside it the other models of the bank.
public struct Probes: Sendable, Equatable {
    public static let alphas: [Double] = [0, 0.05, 0.1, 0.2]
    public static let bits = [32, 8, 6, 5, 4]
    public static let nfe = [5, 9, 13, 21, 35]

    /// SWD (points) or fd-fmnist (images), as `pfgm eval` reports them.
    public var metric: StudioMetric
    public var floor: Double?
    public var count: Int
    public var curves: [ProbeCurve] = []
    /// What is under way ("D=128 step 4200: point 5 of 12"); empty when every curve is whole.
    public var status = ""

    public init(metric: StudioMetric, count: Int) {
        self.metric = metric
        self.count = count
    }
}

/// One model's three curves, each value at the grid's entry of the same index (nil: not yet, or no
/// meaning).
public struct ProbeCurve: Sendable, Equatable {
    public var label: String
    public var augmentedDimension: AugmentedDimension
    public var step: Int
    public var alpha: [Double?] = Array(repeating: nil, count: Probes.alphas.count)
    public var bits: [Double?] = Array(repeating: nil, count: Probes.bits.count)
    public var nfe: [Double?] = Array(repeating: nil, count: Probes.nfe.count)

    public init(label: String, augmentedDimension: AugmentedDimension, step: Int) {
        (self.label, self.augmentedDimension, self.step) = (label, augmentedDimension, step)
    }

    public var isComplete: Bool { (alpha + bits + nfe).allSatisfy { $0 != nil } }
}

/// A point of the grid: every curve varies one setting from the base (α 0, full weights, NFE 35).
public struct ProbePoint: Hashable, Sendable {
    public var alpha = 0.0, bits = 32, nfe = 35

    /// Each distinct point once: the base is shared by the three curves.
    public static let grid: [ProbePoint] = {
        var points: [ProbePoint] = []
        for p in Probes.alphas.map({ ProbePoint(alpha: $0) })
            + Probes.bits.map({ ProbePoint(bits: $0) })
            + Probes.nfe.map({ ProbePoint(nfe: $0) }) where !points.contains(p)
        { points.append(p) }
        return points
    }()

    /// Heun's steps for this NFE (NFE = 2·steps − 1).
    var steps: Int { (nfe + 1) / 2 }
}

enum ProbeOutcome {
    case interrupted
    /// The metric (nil when the samples are not finite) and its floor at the same size.
    case done(Double?, floor: Double?)
}

/// A model the probes view shows: its cache key (identity, step, seed, σ range), where its denoiser
/// comes from (built only when it is not cached), and its prior's cut.
public struct ProbeModel {
    let key: String
    let label: String
    let augmentedDimension: AugmentedDimension
    let step: Int
    let truncation: KernelTruncation?
    let denoiser: () -> Denoiser?

    public init(
        key: String, label: String, augmentedDimension: AugmentedDimension, step: Int,
        truncation: KernelTruncation?, denoiser: @escaping () -> Denoiser?
    ) {
        self.key = key
        self.label = label
        self.augmentedDimension = augmentedDimension
        self.step = step
        self.truncation = truncation
        self.denoiser = denoiser
    }
}

/// A model being probed: its weights frozen when the probe began, and the points measured so far.
public struct ProbeJob {
    let key: String
    let denoiser: Denoiser
    let truncation: KernelTruncation?
    public internal(set) var curve: ProbeCurve
    /// The index in `ProbePoint.grid` of the point measured next.
    public internal(set) var next = 0
}

extension StudioEngine {
    /// Opens (or refreshes, when D or the bank changed) or closes the probes view.
    func setProbes(open: Bool) {
        guard open else {
            probes.close()
            snapshot.probes = nil
            return
        }
        let points = !snapshot.kind.isImage
        let metric: StudioMetric = !points && (frechet != nil || scoresFrechet) ? .frechet : .swd
        probes.open(
            probeModels(), metric: metric,
            count: points ? Self.previewPoints : Self.imageBatchCount, now: Stopwatch.now())
        probes.updateStatus(waiting: metric == .frechet && frechet == nil)
        snapshot.probes = probes.view
    }

    /// The shown D's model (or the oracle), then the bank's other models, each at its own D.
    func probeModels() -> [ProbeModel] {
        let shown = settings.augmentedDimension
        let settingsKey =
            " seed \(settings.seed) σ \(settings.sigmaMin)…\(settings.sigmaMax)"
            + " \(settings.quantScheme)"
        func model(
            _ identity: String, _ label: String, _ d: AugmentedDimension, _ step: Int,
            _ truncation: KernelTruncation?,
            _ denoiser: @escaping () -> Denoiser?
        ) -> ProbeModel {
            ProbeModel(
                key: "\(identity)#\(d)@\(step)" + settingsKey, label: label, augmentedDimension: d,
                step: step,
                truncation: truncation, denoiser: denoiser)
        }
        var out: [ProbeModel] = []
        if isFollowing {
            for run in follow?.runs ?? [] where run.model != nil {
                let d = run.config.augmentedDimension ?? shown
                guard run.dimensions?.contains(d) == true else { continue }
                out.append(
                    model(
                        run.run.path, "\(Self.followedName(run)) at D=\(d)", d, run.checkpointStep,
                        run.config.truncation(at: d)
                    ) { run.denoiser(at: d) })
            }
        } else {
            if let one = oneNetwork, one.trainer.dimensions.contains(shown) {
                out.append(
                    model(
                        one.run.path, "one network at D=\(shown)", shown, one.trainer.step,
                        one.trainer.config.truncation(at: shown)
                    ) { one.trainer.emaDenoiser(at: shown).frozen() })
            }
            for (d, slot) in bank.sorted(by: { $0.key < $1.key }) {
                out.append(
                    model(slot.run.path, "D=\(d)", d, slot.trainer.step, slot.trainer.truncation) {
                        slot.trainer.emaDenoiser().frozen()
                    })
            }
        }
        if !out.contains(where: { $0.augmentedDimension == shown }) {
            let oracle = oracles.denoiser(at: shown)
            out.append(model("oracle", "oracle D=\(shown)", shown, 0, nil) { oracle })
        }
        // The shown D first.
        return out.filter { $0.augmentedDimension == shown }
            + out.filter { $0.augmentedDimension != shown }
    }

    var probeDue: Bool {
        guard probes.isDue(now: Stopwatch.now()) else { return false }
        return probes.view?.metric != .frechet || frechetReady()
    }

    /// Measures the next point of the first unfinished model; a point cut short by a command is
    /// measured again, one whose samples are not finite stays empty.
    func measureProbePoint() {
        guard let (job, point) = probes.next else { return }
        let start = Stopwatch.now()
        guard case .done(let value, let floor) = probeValue(job, point) else { return }
        let took = Stopwatch.now() - start
        probes.record(
            value, floor: floor, now: Stopwatch.now(),
            pause: pacesBackgroundWork ? ProbeQueue.pace * took : 0)
        snapshot.probes = probes.view
        publish()
    }

    /// The metric of one grid point, sampled as `pfgm sample --seed` (the preview's seed) and
    /// scored as `pfgm eval` would, with the floor `pfgm eval` reports beside it.
    func probeValue(_ job: ProbeJob, _ point: ProbePoint) -> ProbeOutcome {
        guard let probes = probes.view else { return .interrupted }
        let schedule = NoiseSchedule(
            steps: point.steps, sigmaMin: settings.sigmaMin, sigmaMax: settings.sigmaMax)
        let request = SamplingRequest(
            denoiser: job.denoiser, augmentedDimension: job.curve.augmentedDimension,
            sampler: Sampler(schedule: schedule, solver: .heun, alpha: point.alpha),
            truncation: job.truncation, bits: point.bits, scheme: settings.quantScheme)
        guard
            let x = request.run(
                count: probes.count, seed: settings.seed, shouldStop: { self.hasPendingCommands })
        else { return .interrupted }
        guard x.storage.allSatisfy({ $0.isFinite }) else { return .done(nil, floor: nil) }
        // Images: the panel's fd-fmnist floor, taken at the same 250 samples.
        if probes.metric == .frechet {
            return .done(frechet?.distance(x), floor: snapshot.imageMetrics?.floor)
        }
        let scores = (try? Evaluation.evaluate(x, against: dataset, metrics: ["swd"])) ?? []
        return .done(
            scores.first { $0.0 == "swd" }?.1, floor: scores.first { $0.0 == "swd_floor" }?.1)
    }
}
