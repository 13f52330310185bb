import Foundation

/// Runs a sweep in a folder, resumably: DIR/sweep.json                 the plan
///   DIR/models/D<d>-s<seed>/       one run directory per (D, seed), trained with the same budget
///   and data order DIR/evals/D<d>-s<seed>/<point>.json   one file per evaluated solver setting
///   DIR/results.csv, DIR/report.md, DIR/{alpha,bits,nfe}.png   rewritten after each model Models
///   already trained and evaluations already written are reused; a partly trained model continues.
///   A folder without evaluations takes them back from its results.csv (see
///   `restoreEvaluations`), and a model whose evaluations are all there is not trained again.
public final class SweepRunner {
    public let plan: SweepPlan
    public let directory: String
    public let data: Dataset
    let metric: SweepMetric
    let lock: RunLock
    /// Work done so far and in all, in denoiser rows (a training step counts 3 × batch).
    public private(set) var doneUnits = 0.0
    public var log: (String) -> Void = { _ in }
    public var progress: (_ done: Double, _ total: Double, _ label: String) -> Void = { _, _, _ in }
    public var shouldStop: () -> Bool = { false }
    /// Models whose training is counted in `doneUnits`.
    private var countedModels: Set<String> = []

    public init(plan: SweepPlan, directory: String, log: @escaping (String) -> Void = { _ in })
        throws(StorageError)
    {
        if let problem = plan.problem { throw StorageError(directory, problem) }
        self.plan = plan
        self.directory = directory
        self.log = log
        do {
            try FileManager.default.createDirectory(
                atPath: directory + "/evals", withIntermediateDirectories: true)
        } catch {
            throw StorageError(
                directory, "cannot create the sweep folder (\(error.localizedDescription))")
        }
        lock = try RunLock(directory + "/.lock")
        try Self.checkOrWritePlan(plan, directory)
        do {
            data = try Dataset.load(plan.data, dim: plan.dim)
            metric = try SweepMetric(data: data, log: log)
        } catch { throw StorageError(directory, error.description) }
    }

    public var planPath: String { directory + "/sweep.json" }
    public var totalUnits: Double {
        let train = Double(plan.steps * 3 * plan.batch)
        let evaluate = plan.points.reduce(0.0) { $0 + Double($1.nfe * plan.count) }
        return Double(plan.seeds)
            * (Double(plan.modelsPerSeed) * train + Double(plan.augDims.count) * evaluate)
    }
    public var metricName: String { metric.name }

    /// A folder that already holds a different plan is refused rather than mixed. The same plan
    /// with more seeds extends it: the stored seeds' models and evaluations are kept.
    static func checkOrWritePlan(_ plan: SweepPlan, _ directory: String) throws(StorageError) {
        let path = directory + "/sweep.json"
        if FileManager.default.fileExists(atPath: path) {
            let stored = try readPlan(directory)
            var extended = stored.normalized
            extended.seeds = max(stored.seeds, plan.seeds)
            guard extended == plan.normalized else {
                let hint =
                    stored.kernelQuantile == nil
                    ? " (made before kernel truncation: add --kernel-quantile 1)" : ""
                throw StorageError(
                    path,
                    """
                    this folder holds a different sweep\(hint); rerun it with the same settings \
                    (more --seeds adds seeds) or choose another --out
                    """
                )
            }
            if plan.seeds == stored.seeds { return }
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let bytes = try? encoder.encode(plan) else {
            throw StorageError(path, "cannot encode the plan")
        }
        try AtomicFile.write([UInt8](bytes) + [10], to: path)
    }

    public static func readPlan(_ directory: String) throws(StorageError) -> SweepPlan {
        let path = directory + "/sweep.json"
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(SweepPlan.self, from: Data(try AtomicFile.read(path)))
        } catch let e as StorageError { throw e } catch {
            throw StorageError(path, "not a valid sweep plan")
        }
    }

    /// Trains and evaluates what is missing. Returns false when stopped early (all finished work is
    /// kept).
    public func run() throws(StorageError) -> Bool {
        let restored = try restoreEvaluations()
        if restored > 0 { log("took \(restored) evaluations from results.csv") }
        for seed in 0..<plan.seeds {
            for d in plan.augDims {
                if evaluated(d, seed: seed) {
                    countTraining(modelPath(d, seed: seed))
                    doneUnits += plan.points.reduce(0.0) { $0 + Double($1.nfe * plan.count) }
                    continue
                }
                guard try train(d, seed: seed), try evaluate(d, seed: seed) else { return false }
                try writeOutputs()
            }
        }
        try writeOutputs()
        return true
    }

    /// Counts a model's whole training as done, once.
    private func countTraining(_ path: String) {
        if countedModels.insert(path).inserted {
            doneUnits += Double(plan.steps * 3 * plan.batch)
        }
    }

    public func modelPath(_ d: String, seed: Int) -> String {
        directory + "/models/" + plan.modelFolder(d, seed: seed)
    }

    /// Trains (or finishes training) the model that answers at D; false when stopped. A seed's one
    /// network is trained once, for its first D.
    func train(_ d: String, seed: Int) throws(StorageError) -> Bool {
        let run = RunDirectory(modelPath(d, seed: seed))
        let stepUnits = Double(3 * plan.batch)
        if run.exists, let step = Self.checkpointStep(run), step >= plan.steps {
            countTraining(run.path)
            return true
        }
        if countedModels.remove(run.path) != nil { doneUnits -= Double(plan.steps) * stepUnits }
        guard let dimensions = plan.trainedDimensions(d) else {
            throw StorageError(planPath, "invalid D '\(d)'")
        }
        let trainer: Trainer
        if run.exists {
            trainer = try run.resume(data: data.train)
        } else {
            let config = plan.trainingConfig(
                dim: data.dim, sigmaData: data.sigmaData, imageChannels: data.imageChannels,
                dimensions: dimensions, seed: seed)
            do { trainer = try Trainer(config: config, data: data.train) } catch {
                throw StorageError(run.path, error.description)
            }
            try run.create()
            try run.writeConfig(config)
        }
        let name = plan.oneNetwork.map { "the one network over \($0)" } ?? "D=\(d)"
        log("training \(name), seed \(seed) from step \(trainer.step) to \(plan.steps)")
        doneUnits += Double(trainer.step) * stepUnits
        var window = StatsWindow()
        var windowStart = Stopwatch.now()
        let start = windowStart
        while trainer.step < plan.steps {
            let loss = trainer.trainStep()
            guard loss.isFinite else {
                try run.save(trainer)
                throw StorageError(
                    run.path, "training diverged at step \(trainer.step + 1); lower --lr and rerun")
            }
            window.add(loss)
            doneUnits += stepUnits
            if trainer.step % 50 == 0 || trainer.step == plan.steps {
                let now = Stopwatch.now()
                try run.appendStats(
                    window.close(step: trainer.step, wall: now - windowStart, elapsed: now - start))
                windowStart = now
            }
            if trainer.step % 1000 == 0 || trainer.step == plan.steps { try run.save(trainer) }
            progress(
                doneUnits, totalUnits,
                """
                train \(plan.oneNetwork == nil ? "D=\(d)" : "one network") s\(seed) step \
                \(trainer.step)/\(plan.steps) loss \(String(format: "%.4f", loss))
                """
            )
            if shouldStop() {
                try run.save(trainer)
                return false
            }
        }
        countedModels.insert(run.path)
        return true
    }

    static func checkpointStep(_ run: RunDirectory) -> Int? {
        guard let file = try? SafeTensors.read(run.checkpointPath) else { return nil }
        return file.metadata["step"].flatMap(Int.init)
    }

    public func evaluationPath(_ d: String, seed: Int, _ point: SweepPoint) -> String {
        "\(directory)/evals/\(SweepPlan.modelName(d, seed: seed))/\(point.key).json"
    }

    /// Evaluates every grid point not yet on disk for one model; false when stopped.
    func evaluate(_ d: String, seed: Int) throws(StorageError) -> Bool {
        let missing = plan.points.filter {
            !FileManager.default.fileExists(atPath: evaluationPath(d, seed: seed, $0))
        }
        doneUnits += plan.points.filter { !missing.contains($0) }.reduce(0.0) {
            $0 + Double($1.nfe * plan.count)
        }
        guard !missing.isEmpty else { return true }
        let (denoiser, config) = try RunDirectory(modelPath(d, seed: seed)).loadDenoiser()
        guard let augmentedDimension = AugmentedDimension(parsing: d),
            config.augDim.contains(augmentedDimension)
        else {
            throw StorageError(modelPath(d, seed: seed), "the model does not answer at D=\(d)")
        }
        denoiser.augmentedDimension = augmentedDimension
        for point in missing {
            let start = Stopwatch.now()
            let schedule = NoiseSchedule(
                steps: point.steps, sigmaMin: plan.sigmaMin, sigmaMax: plan.sigmaMax, rho: plan.rho)
            let request = SamplingRequest(
                denoiser: denoiser, augmentedDimension: augmentedDimension,
                sampler: Sampler(
                    schedule: schedule, solver: .heun, alpha: point.alpha,
                    churn: plan.churn ?? Churn()),
                truncation: config.truncation(at: augmentedDimension), bits: point.bits,
                scheme: plan.quantScheme ?? .all)
            // The same prior draws for every setting of one model (common random numbers).
            guard
                let x = request.run(
                    count: plan.count, seed: 7_000 + UInt64(seed), stream: 3,
                    shouldStop: shouldStop)
            else { return false }
            let value = x.storage.allSatisfy { $0.isFinite } ? metric.value(x) : nil
            let result = SweepResult(
                augDim: d, seed: seed, alpha: point.alpha, bits: point.bits, nfe: point.nfe,
                metric: metric.name, value: value, seconds: Stopwatch.now() - start)
            try Self.write(result, to: evaluationPath(d, seed: seed, point))
            doneUnits += Double(point.nfe * plan.count)
            progress(
                doneUnits, totalUnits,
                """
                eval D=\(d) s\(seed) α=\(point.alpha) bits=\(point.bits) NFE=\(point.nfe): \
                \(value.map { String(format: "%.4g", $0) } ?? "diverged")
                """
            )
            if shouldStop() { return false }
        }
        return true
    }

    /// Writes one evaluation, making its model's folder of evaluations when it is the first.
    static func write(_ result: SweepResult, to path: String) throws(StorageError) {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StorageError(folder, "cannot create (\(error.localizedDescription))")
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        guard let bytes = try? encoder.encode(result) else {
            throw StorageError(path, "cannot encode")
        }
        try AtomicFile.write([UInt8](bytes) + [10], to: path)
    }

    /// Every evaluation on disk for this plan's models and points.
    public func results() -> [SweepResult] { Self.results(plan: plan, directory: directory) }

    public static func results(plan: SweepPlan, directory: String) -> [SweepResult] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var out: [SweepResult] = []
        for seed in 0..<plan.seeds {
            for d in plan.augDims {
                for point in plan.points {
                    let path =
                        "\(directory)/evals/\(SweepPlan.modelName(d, seed: seed))/\(point.key).json"
                    guard let bytes = try? AtomicFile.read(path),
                        let r = try? decoder.decode(SweepResult.self, from: Data(bytes))
                    else { continue }
                    out.append(r)
                }
            }
        }
        return out
    }

    /// results.csv, report.md and the three plots, from what is on disk.
    public func writeOutputs(command: String? = nil) throws(StorageError) {
        let report = SweepReport(
            plan: plan, results: results(), metric: metric.name,
            floor: metric.floor(count: plan.count))
        try AtomicFile.write(Array(report.csv().utf8), to: directory + "/results.csv")
        try AtomicFile.write(
            Array(report.markdown(command: command ?? SweepReport.storedCommand(directory)).utf8),
            to: directory + "/report.md")
        for probe in SweepReport.Probe.allCases {
            try PNG.write(report.plot(probe).render(), to: "\(directory)/\(probe.rawValue).png")
        }
    }

    /// Keeps the command line that made the sweep, for the report.
    public func recordCommand(_ command: String) throws(StorageError) {
        try AtomicFile.write(Array((command + "\n").utf8), to: directory + "/command.txt")
    }
}

/// The data set's metric: SWD for points, fd-fmnist for labelled images.
enum SweepMetric {
    case sliced(Dataset)
    case frechet(ImageFrechet)

    init(data: Dataset, log: (String) -> Void) throws(DataError) {
        if SweepPlan.scoresWithFrechet(data) {
            self = .frechet(
                try ImageFrechet.prepare(for: data, cacheDirectory: CacheDirectory.path, log: log))
        } else {
            self = .sliced(data)
        }
    }

    var name: String {
        switch self {
        case .sliced: "swd"
        case .frechet: "fd_fmnist"
        }
    }

    func value(_ x: Matrix) -> Double? {
        switch self {
        case .sliced(let data):
            (try? Evaluation.evaluate(x, against: data, metrics: ["swd"]))?.first { $0.0 == "swd" }?
                .1
        case .frechet(let fd): fd.distance(x)
        }
    }

    func floor(count: Int) -> Double? {
        switch self {
        case .sliced(let data):
            SlicedWasserstein.distance(
                data.draw(count: count, seed: 101), data.draw(count: count, seed: 102))
        case .frechet(let fd): fd.floor(count: count)
        }
    }
}
