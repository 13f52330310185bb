import ArgumentParser
import Engine
import Foundation

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Train one model per (D, seed) and measure each under noise α, weight bits and NFE.",
        discussion: """
            Writes OUT/report.md (tables: rows D, columns α / bits / NFE, mean ± sd over seeds, \
            with plain findings), OUT/results.csv, OUT/alpha.png, OUT/bits.png, OUT/nfe.png, and \
            every model under OUT/models (each opens with `pfgm sample --ckpt` and the studio). \
            The metric is SWD for point data and fd-fmnist for Fashion-MNIST. Rerun the same \
            command to continue: finished models and evaluations are kept; Ctrl-C stops at a clean \
            point. A published folder without models or evaluations resumes from its results.csv: \
            its evaluations are read back and only what is missing is trained (remove results.csv \
            too to evaluate again).
            """
    )

    @Option(help: "Data set: \(Dataset.builtInNames.joined(separator: ", ")), or a data file.")
    var data: String

    @Option(help: "Coordinates of the manifold data set (N).")
    var dim: Int?

    @Option(
        name: .customLong("aug-dims"),
        help: "Comma-separated augmented dimensions D (numbers or inf).")
    var augDims: String = "8,64,128,2048,inf"

    @Option(help: "Training steps per model.")
    var steps: Int

    @Option(help: "Seeds per D (models differ in initial weights, data order and noise).")
    var seeds: Int = 3

    @Option(help: "Comma-separated noise-injection levels α (0 is always measured).")
    var alphas: String = "0.1,0.2"

    @Option(help: "Comma-separated weight bit widths (32 = full precision, always measured).")
    var bits: String = "8,6,5,4"

    @Option(help: "Comma-separated odd NFE values for Heun (the largest is the base setting).")
    var nfe: String = "35,21,13,9,5"

    @Option(help: "Samples per evaluation.")
    var count: Int = 2000

    @OptionGroup var network: NetworkOptions

    @Option(help: "Examples per training step.")
    var batch: Int = 512

    @Option(help: "Adam learning rate.")
    var lr: Double = 1e-3

    @Option(
        name: .customLong("sigma-min"),
        help: "Smallest noise level of the solver (lower it for very small D).")
    var sigmaMin: Double = 0.002

    @Option(
        name: .customLong("one-network"),
        help:
            """
            Train one network per seed over this range of D (LO..HI[,inf], holding every D of \
            --aug-dims) and evaluate it at each D, instead of a model per D; --steps is then its \
            budget.
            """
    )
    var oneNetwork: String?

    @OptionGroup var draws: DrawOptions

    @Option(
        name: .customLong("kernel-quantile"),
        help:
            """
            Draw training radii only up to this quantile of the kernel (1: the whole kernel).
            """
    )
    var kernelQuantile: Double = TrainingConfig.defaultKernelQuantile

    @Option(
        name: .customLong("quant-scheme"),
        help: "Which weights the bits column quantizes: all, or official (see pfgm sample --help).")
    var quantScheme: QuantizationScheme = .all

    @OptionGroup var churning: ChurnOptions

    @OptionGroup var scheduling: ScheduleOptions

    @Option(help: "Sweep folder (created, or continued when it holds the same sweep).")
    var out: String

    @OptionGroup var threading: ThreadOptions

    func plan() throws -> SweepPlan {
        func list<T>(_ text: String, _ flag: String, _ parse: (String) -> T?) throws -> [T] {
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            return try items.map { item in
                guard let v = parse(item) else {
                    throw ValidationError("--\(flag): '\(item)' is not a valid value")
                }
                return v
            }
        }
        let dims = try list(augDims, "aug-dims") { AugmentedDimension(parsing: $0)?.description }
        var p = SweepPlan(
            data: data, augDims: dims, seeds: seeds, steps: steps,
            alphas: try list(alphas, "alphas") { Double($0) },
            bits: try list(bits, "bits") { Int($0) },
            nfe: try list(nfe, "nfe") { Int($0) }, count: count)
        p.dim = dim
        p.architecture = network.arch.configName
        p.width = network.width
        p.depth = network.depth
        p.batch = batch
        p.learningRate = lr
        p.sigmaMin = sigmaMin
        p.kernelQuantile = kernelQuantile
        p.oneNetwork = oneNetwork.map { AugmentedDimensionRange(parsing: $0)?.description ?? $0 }
        p.draws =
            draws.given
            ? draws.draws(over: p.oneNetwork.flatMap(AugmentedDimensionRange.init(parsing:))) : nil
        p.churn = churning.churn.churn > 0 ? churning.churn : nil
        p.quantScheme = quantScheme == .all ? nil : quantScheme
        p.schedule = scheduling.schedule.isDefault ? nil : scheduling.schedule
        if let problem = p.problem { throw ValidationError(problem) }
        guard (1...1_000_000).contains(batch) else {
            throw ValidationError("--batch must be between 1 and 1000000")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard sigmaMin > 0, sigmaMin < p.sigmaMax else {
            throw ValidationError("--sigma-min must be in (0, 80)")
        }
        return p
    }

    func validate() throws { _ = try plan() }

    /// "8 models × 11 evaluations", or for one network per seed "3 networks × 4 D × 3
    /// evaluations".
    static func size(_ plan: SweepPlan) -> String {
        let settings = plan.points.count
        guard plan.oneNetwork != nil else {
            return "\(plan.augDims.count * plan.seeds) models × \(settings) evaluations"
        }
        let networks = plan.seeds == 1 ? "1 network" : "\(plan.seeds) networks"
        return "\(networks) × \(plan.augDims.count) D × \(settings) evaluations"
    }

    func run() throws {
        threading.apply()
        let runner = try attempt { try SweepRunner(plan: try plan(), directory: out, log: note) }
        let arguments = Array(CommandLine.arguments.dropFirst())
        let command = (["pfgm"] + arguments).map(shellQuoted).joined(separator: " ")
        let recorded = (["pfgm"] + Self.portable(arguments)).map(shellQuoted).joined(separator: " ")
        try attempt { try runner.recordCommand(recorded) }
        installStopHandlers()
        var progress = SweepProgress()
        runner.progress = { done, total, label in
            progress.update(done: done, total: total, label: label)
        }
        runner.shouldStop = { stopRequested.load(ordering: .relaxed) }
        let sweep = runner.plan
        note(
            "sweep of \(Self.size(sweep)) on \(sweep.data), metric \(runner.metricName) → "
                + out)
        let finished = try attempt { try runner.run() }
        progress.finish()
        try attempt { try runner.writeOutputs(command: recorded) }
        if !finished {
            throw Failure(
                "stopped; finished work is kept. Continue with the same command: \(command)")
        }
        note("done: \(out)/report.md, results.csv, alpha.png, bits.png, nfe.png")
    }
}

extension Sweep {
    /// The arguments with --out's folder by its name alone, as reports and command.txt show them:
    /// they travel with the folder and name no other machine's paths.
    static func portable(_ arguments: [String]) -> [String] {
        var out = arguments
        for (i, argument) in arguments.enumerated() {
            if argument == "--out", i + 1 < out.count {
                out[i + 1] = URL(fileURLWithPath: out[i + 1]).lastPathComponent
            } else if argument.hasPrefix("--out=") {
                let path = String(argument.dropFirst("--out=".count))
                out[i] = "--out=" + URL(fileURLWithPath: path).lastPathComponent
            }
        }
        return out
    }
}

func shellQuoted(_ s: String) -> String {
    s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./,=:+".contains($0) })
        ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
