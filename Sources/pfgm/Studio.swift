import ArgumentParser
import Engine
import Foundation
import TUI

struct Studio: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            """
            The terminal studio: watch training live, move D, change NFE, α and weight bits, \
            resample.
            """,
        discussion: "Keys: "
            + KeyTable.bindings.map { "\($0.label) \($0.help)" }.joined(separator: " · ")
            + ".\n\n" + """
                Models are saved under --runs (one folder per data set and D, DATA-one for the one \
                network) and loaded again next time; s saves the model shown, the one network when \
                it is shown. --ckpt DIR of a run over a range of D (pfgm train --aug-dim \
                1..4096,inf) opens it as the one network: ← → resample it at every D of the slider \
                while it trains. --sweep DIR opens a `pfgm sweep` folder: its models (one seed, \
                every D) in the bank and its tables on w.

                --follow DIR watches a run that trains elsewhere (pfgm train, pfgm sweep, \
                torchrun): read-only, no lock taken, nothing written under DIR. Its losses stream \
                into the loss panel, each new checkpoint is read and resampled with the D, NFE, α \
                and bits shown; s copies the shown model into --runs. A sweep folder: every model \
                as it appears (per D its newest seed, or --sweep-seed's).
                """
    )

    @Option(
        help:
            """
            Data set: \(Dataset.builtInNames.joined(separator: ", ")), or a .npy file (K, N) \
            (default checkerboard; with --ckpt, the run's own, or this file when the run's is \
            elsewhere).
            """
    )
    var data: String?

    @Option(
        name: .customLong("aug-dim"), help: "The D shown first: a number ≥ 0.1 or inf.",
        transform: parseAugmentedDimension)
    var augDim: AugmentedDimension?

    @Option(help: "Colour theme: dark, light, mono, or a theme file (themes/*.json).")
    var theme: String = "dark"

    @Option(help: "Open a saved run directory (its data set and D).")
    var ckpt: String?

    @Option(help: "Open a sweep folder (pfgm sweep --out DIR): its models and its tables.")
    var sweep: String?

    @Option(help: "Follow a run or sweep folder trained elsewhere, read-only (see above).")
    var follow: String?

    @Option(
        name: .customLong("sweep-seed"),
        help: "Which seed's models of the sweep to open (default 0; with --follow, the newest).")
    var sweepSeed: Int?

    @Option(help: "Folder for saved models.")
    var runs: String = "runs"

    @Option(help: "Seed for new models and the first preview.")
    var seed: UInt64 = 0

    @Option(help: "Coordinates of the manifold data set (N).")
    var dim: Int?

    @Option(help: "Adam learning rate for models trained in the studio.")
    var lr: Double = 1e-3

    @OptionGroup var churning: ChurnOptions

    @OptionGroup var scheduling: ScheduleOptions

    @OptionGroup(title: "Draws of the one network (n)") var draws: DrawOptions

    @OptionGroup var threading: ThreadOptions

    /// The range `n`'s one network covers, for its draws (the engine's `sliderRange` holds it).
    static let oneNetworkRange = AugmentedDimensionRange(parsing: "1..4096,inf")

    func validate() throws {
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        if [sweep, ckpt, follow].compactMap({ $0 }).count > 1 {
            throw ValidationError("--sweep, --ckpt and --follow cannot be combined")
        }
        if draws.given, follow != nil {
            throw ValidationError("\(DrawOptions.flags): following trains nothing")
        }
        if let range = Self.oneNetworkRange,
            let problem = draws.draws(over: range).problem(range)
        {
            throw ValidationError(problem)
        }
        // The studio's models train with a new run's batch.
        if let problem = TrainingConfig.referenceBatchProblem(
            scheduling.referenceBatch, batch: TrainingConfig.defaultBatch, dim: 1)
        {
            throw ValidationError(problem)
        }
    }

    func run() throws {
        threading.apply()
        let chosenTheme = try attemptTheme { try Theme.named(theme) }
        let (dataset, opened, startD, sweepLines) = try attempt(prepare)
        let target = try follow.map { path in try attempt { try followTarget(path) } }
        // Following writes nothing of its own, so several studios may follow one run.
        let studioLock =
            target != nil
            ? nil
            : try attempt { () throws -> RunLock in
                try FileManager.default.createDirectory(
                    atPath: runs, withIntermediateDirectories: true)
                return try RunLock("\(runs)/.studio-\(dataset.shortName).lock")
            }
        installStopHandlers()
        signal(SIGPIPE, SIG_IGN)
        let terminal: NcursesTerminal
        do {
            terminal = try NcursesTerminal(
                noColor: !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty)
        } catch { throw Failure("\(error)") }
        var settings = StudioSettings(augmentedDimension: startD)
        settings.seed = seed
        settings.churn = churning.churn
        let engine = StudioEngine(
            dataset: dataset, settings: settings, runsFolder: runs, opened: opened,
            sweepLines: sweepLines,
            learningRate: lr, schedule: scheduling.schedule,
            draws: draws.draws(over: Self.oneNetworkRange),
            follow: target)
        engine.start()
        let app = StudioApp(
            engine: engine, backend: terminal, theme: chosenTheme, themes: Theme.available())
        app.run(stop: stopRequested)
        terminal.shutdown()
        let final = engine.latest
        for warning in final.warnings { note("pfgm: \(warning)") }
        if final.messageKind == .saved { note("pfgm: \(final.message)") }
        withExtendedLifetime(studioLock) {}
    }

    private func prepare() throws -> (Dataset, [RunDirectory], AugmentedDimension, [String]) {
        if let sweep { return try prepareSweep(sweep) }
        if let follow { return try prepareFollow(follow) }
        guard let ckpt else {
            return (
                try Dataset.load(data ?? "checkerboard", dim: dim), [], augDim ?? .finite(128), []
            )
        }
        let run = RunDirectory(ckpt)
        guard run.exists else { throw Failure("\(ckpt): no run here (config.json is missing)") }
        let config = try run.readConfig()
        _ = try run.loadDenoiser()
        _ = try RunLock(run: run)
        let d = config.augDim.defaultDimension
        let spec = try run.dataSpec(config, override: data)
        let dataset = try runData(spec, dim: config.dim, of: ckpt)
        return (dataset, [run], augDim ?? d, [])
    }

    /// The sweep's data, its trained models of one seed, and its tables.
    private func prepareSweep(_ folder: String) throws -> (
        Dataset, [RunDirectory], AugmentedDimension, [String]
    ) {
        let plan = try SweepRunner.readPlan(folder)
        let sweepSeed = sweepSeed ?? 0
        guard (0..<plan.seeds).contains(sweepSeed) else {
            throw Failure("--sweep-seed \(sweepSeed): the sweep has seeds 0…\(plan.seeds - 1)")
        }
        let dataset = try Dataset.load(plan.data, dim: plan.dim)
        let folders =
            plan.oneNetwork == nil
            ? plan.augDims.map { plan.modelFolder($0, seed: sweepSeed) }
            : [plan.modelFolder("", seed: sweepSeed)]
        let runs = folders.map { RunDirectory("\(folder)/models/" + $0) }.filter(\.exists)
        guard let first = runs.first else {
            throw Failure("\(folder): no trained models yet; run the sweep first")
        }
        let d = try first.readConfig().augDim.defaultDimension
        for run in runs { _ = try RunLock(run: run) }
        let report = SweepReport(
            plan: plan, results: SweepRunner.results(plan: plan, directory: folder),
            metric: plan.metricName(for: dataset), floor: nil)
        return (dataset, runs, augDim ?? d, report.textLines())
    }

    /// The data and first D of a followed run or sweep; nothing is locked or written.
    private func prepareFollow(_ path: String) throws -> (
        Dataset, [RunDirectory], AugmentedDimension, [String]
    ) {
        let (name, dim, first): (String, Int?, AugmentedDimension?)
        switch try followTarget(path) {
        case .run(let run):
            let config = try run.readConfig()
            (name, dim, first) = (
                try run.dataSpec(config, override: data), config.dim,
                config.augDim.defaultDimension
            )
        case .sweep(_, let plan, _):
            (name, dim, first) = (
                plan.data, plan.dim,
                plan.trainedDimensions(plan.augDims.first ?? "")?.defaultDimension
            )
        }
        return (try runData(name, dim: dim, of: path), [], augDim ?? first ?? .finite(128), [])
    }

    /// The data a run or sweep at `path` names (or --data), with N checked against the models'.
    private func runData(_ name: String, dim: Int?, of path: String) throws -> Dataset {
        let dataset: Dataset
        do { dataset = try Dataset.load(data ?? name, dim: dim) } catch {
            guard data == nil else { throw error }
            throw Failure(
                """
                \(error.description) (the data of \(path); when it is elsewhere here, give it with \
                --data PATH)
                """
            )
        }
        if let dim, dataset.dim != dim {
            throw Failure(
                """
                --data \(data ?? name): \(dataset.dim) coordinates, the model in \(path) has \
                \(dim)
                """
            )
        }
        return dataset
    }

    /// A run directory (config.json) or a sweep folder (sweep.json).
    private func followTarget(_ path: String) throws -> FollowTarget {
        let run = RunDirectory(path)
        if run.exists { return .run(run) }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder),
            isFolder.boolValue
        else {
            throw Failure("--follow \(path): no such folder")
        }
        guard FileManager.default.fileExists(atPath: path + "/sweep.json") else {
            throw Failure(
                "--follow \(path): neither a run (config.json) nor a sweep folder (sweep.json)")
        }
        let plan = try SweepRunner.readPlan(path)
        if let sweepSeed, !(0..<plan.seeds).contains(sweepSeed) {
            throw Failure("--sweep-seed \(sweepSeed): the sweep has seeds 0…\(plan.seeds - 1)")
        }
        return .sweep(folder: path, plan: plan, seed: sweepSeed)
    }

    private func attemptTheme(_ body: () throws -> Theme) throws -> Theme {
        do { return try body() } catch let e as ThemeError { throw Failure(e.description) }
    }
}
