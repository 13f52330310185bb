/// The probes feature's state and pacing, apart from the engine: whether the view is open, the
/// models still to measure (each a point at a time), every finished curve by model, and when the
/// next point is due. The engine supplies the models and measures the points.
public struct ProbeQueue {
    /// Training gets this many times a point's sampling time between points.
    public static let pace = 4.0

    public private(set) var isOpen = false
    public private(set) var jobs: [ProbeJob] = []
    private var finished: [String: ProbeCurve] = [:]
    private var due = 0.0

    public init() {}
    /// What the view shows; nil while closed.
    public private(set) var view: Probes?

    /// Opens the view (or refreshes it for other models): finished curves come from the cache,
    /// the other models queue from their first point.
    public mutating func open(_ models: [ProbeModel], metric: StudioMetric, count: Int, now: Double)
    {
        isOpen = true
        var probes = Probes(metric: metric, count: count)
        probes.floor = view?.floor
        jobs = []
        for model in models {
            if let cached = finished[model.key] {
                probes.curves.append(cached)
                continue
            }
            guard let denoiser = model.denoiser() else { continue }
            let curve = ProbeCurve(
                label: model.label, augmentedDimension: model.augmentedDimension, step: model.step)
            probes.curves.append(curve)
            jobs.append(
                ProbeJob(
                    key: model.key, denoiser: denoiser, truncation: model.truncation, curve: curve))
        }
        view = probes
        due = now
        updateStatus(waiting: false)
    }

    public mutating func close() {
        isOpen = false
        jobs = []
        view = nil
    }

    /// Whether a point should be measured now.
    public func isDue(now: Double) -> Bool { isOpen && !jobs.isEmpty && now >= due }

    /// The model and point to measure next.
    public var next: (job: ProbeJob, point: ProbePoint)? {
        jobs.first.map { ($0, ProbePoint.grid[$0.next]) }
    }

    /// Records the next point's value (nil: samples not finite) and the metric's floor; the next
    /// point is due after `pause` seconds.
    public mutating func record(_ value: Double?, floor: Double?, now: Double, pause: Double) {
        guard var job = jobs.first, var probes = view else { return }
        let point = ProbePoint.grid[job.next]
        probes.floor = probes.floor ?? floor
        for (i, a) in Probes.alphas.enumerated() where point == ProbePoint(alpha: a) {
            job.curve.alpha[i] = value
        }
        for (i, b) in Probes.bits.enumerated() where point == ProbePoint(bits: b) {
            // The oracle has no weights to quantize.
            job.curve.bits[i] = job.denoiser is NetworkDenoiser || b == 32 ? value : nil
        }
        for (i, n) in Probes.nfe.enumerated() where point == ProbePoint(nfe: n) {
            job.curve.nfe[i] = value
        }
        job.next += 1
        if let i = probes.curves.firstIndex(where: { $0.label == job.curve.label }) {
            probes.curves[i] = job.curve
        }
        if job.next == ProbePoint.grid.count {
            finished[job.key] = job.curve
            jobs.removeFirst()
        } else {
            jobs[0] = job
        }
        view = probes
        due = now + pause
        updateStatus(waiting: false)
    }

    /// The view's status line: the point under way and the models after it, or what it waits for.
    public mutating func updateStatus(waiting: Bool) {
        guard let job = jobs.first else {
            view?.status = ""
            return
        }
        let more =
            jobs.count > 1 ? " · \(jobs.count - 1) more model\(jobs.count > 2 ? "s" : "")" : ""
        view?.status =
            waiting
            ? "loading the fd-fmnist classifier"
            : "\(job.curve.label), step \(job.curve.step): point \(job.next + 1) of "
                + "\(ProbePoint.grid.count)\(more)"
    }
}
