import ArgumentParser
import Engine
import Foundation

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How close a trained denoiser is to the exact posterior mean, per noise level.",
        discussion: """
            Perturbs training points with the run's kernel at each σ (truncated as in training, \
            unless --kernel-quantile says otherwise) and compares D_θ(x, σ) with the oracle's \
            exact E[y | x] for that kernel over the run's training points: e = ‖D_θ − D*‖² per \
            point. Prints the median, 90th percentile and mean of e, the share of points beyond \
            10σ from their clean point and the median e over those. With --json, one JSON object \
            per σ. With --trajectory, the points are those a sampling run passes through instead \
            (the solver's flags as for `pfgm sample`, the prior cut as the measured kernel; far: \
            beyond 10σ_i from every training point), one line per σ_i of the schedule.
            """
    )

    @Option(help: "Run directory of a trained model.")
    var ckpt: String

    @Option(help: "Where the run's data is now, when it moved.")
    var data: String?

    @Option(
        name: .customLong("aug-dim"),
        help: "D to measure at (the run's own; any D of a one-network run's range).",
        transform: parseAugmentedDimension)
    var augDim: AugmentedDimension?

    @Option(
        name: .customLong("against-aug-dim"),
        help: ArgumentHelp(
            "Also compare with this D's exact posterior mean: which D the model answers like.",
            discussion: """
                The points are perturbed at --aug-dim as always (with --trajectory, those that \
                sampling runs at --aug-dim pass through, noise injection included); prints the \
                median error to each D's posterior mean and the median lean toward this D (0: \
                answers as at --aug-dim, 1: as at this D), with the median gap between the two \
                posterior means; a lean marked * lies where the model's error to either mean \
                is above that gap, and says little. For a one network asked for D = 2, \
                --against-aug-dim 8 shows whether it tells D = 2 from D = 8.
                """),
        transform: parseAugmentedDimension)
    var againstAugDim: AugmentedDimension?

    @Option(help: "Comma-separated noise levels σ.")
    var sigmas: String = PosteriorFit.defaultSigmas.map { jsonNumber($0) }.joined(separator: ",")

    @Option(
        name: .customLong("kernel-quantile"),
        help:
            """
            The kernel to measure with, cut at this quantile (default: the run's; 1: the whole \
            kernel).
            """
    )
    var kernelQuantile: Double?

    @Option(help: "Perturbed points per σ.")
    var count: Int = 2000

    @Option(help: "Seed for the points and their perturbations.")
    var seed: UInt64 = 7

    @Flag(help: "One JSON object per σ instead of a table.")
    var json = false

    @Flag(
        help:
            """
            Measure along sampling trajectories from the prior (--count of them) instead of at \
            --sigmas.
            """
    )
    var trajectory = false

    @OptionGroup var solving: SolverOptions

    @OptionGroup var quantization: QuantizationOptions

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (1...Eval.largestCount).contains(count) else {
            throw ValidationError("--count must be between 1 and \(Eval.largestCount)")
        }
        if let q = kernelQuantile, !(q >= 0.5 && q <= 1) {
            throw ValidationError("--kernel-quantile must be in [0.5, 1]")
        }
        guard !levels.isEmpty, levels.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0).isFinite }) else {
            throw ValidationError("--sigmas must be comma-separated positive numbers")
        }
    }

    private var levels: [Double?] {
        sigmas.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    func run() throws {
        threading.apply()
        try attempt {
            let (model, config, d) = try loadTrainedModel(ckpt, augmentedDimension: augDim)
            quantization.apply(to: model)
            let dataset = try RunDirectory(ckpt).loadData(config, override: data)
            guard dataset.dim == model.dim else {
                throw Failure("\(dataset.name): \(dataset.dim) coordinates, the model \(model.dim)")
            }
            let quantile = kernelQuantile ?? config.kernelQuantile ?? 1
            let truncation = KernelTruncation.make(
                quantile: quantile, dim: config.dim, augmentedDimension: d)
            let runs = SamplingRequest(
                denoiser: model, augmentedDimension: d, sampler: solving.sampler,
                truncation: truncation)
            if let other = againstAugDim {
                guard other != d else {
                    throw Failure("--against-aug-dim \(other): the D measured; choose another D")
                }
                let found =
                    trajectory
                    ? PosteriorFit.separationAlongTrajectory(
                        runs, points: dataset.train, from: other, kernelQuantile: quantile,
                        count: count, seed: seed)
                    : PosteriorFit.separation(
                        model, points: dataset.train, augmentedDimension: d, from: other,
                        kernelQuantile: quantile, sigmas: levels.compactMap { $0 }, count: count,
                        seed: seed)
                reportSeparation(found, d: d, other: other, quantile: quantile)
                return
            }
            let fit =
                trajectory
                ? PosteriorFit.alongTrajectory(
                    runs, points: dataset.train, count: count, seed: seed)
                : PosteriorFit.measure(
                    model, points: dataset.train, augmentedDimension: d, truncation: truncation,
                    sigmas: levels.compactMap { $0 }, count: count, seed: seed)
            report(
                fit,
                header: """
                    D=\(d), kernel quantile \(jsonNumber(quantile)), \
                    \(dataset.train.rows) training points, \
                    \(count) \(trajectory ? "trajectories" : "perturbed points per σ"); \
                    e = ‖D_θ − D*‖²
                    """,
                quantile: quantile)
        }
    }

    /// Which D the model answers like: a table, or one JSON object per σ.
    private func reportSeparation(
        _ levels: [PosteriorFit.Separation], d: AugmentedDimension, other: AugmentedDimension,
        quantile: Double
    ) {
        if json {
            for l in levels {
                print(
                    jsonObject([
                        ("kernel_quantile", jsonNumber(quantile)), ("sigma", jsonNumber(l.sigma)),
                        ("aug_dim", jsonString(d.description)),
                        ("against_aug_dim", jsonString(other.description)),
                        ("median", jsonNumber(l.median)),
                        ("median_against", jsonNumber(l.medianOther)),
                        ("lean", jsonNumber(l.lean)), ("median_gap", jsonNumber(l.medianGap)),
                    ]))
            }
            return
        }
        print(
            """
            D=\(d) against D=\(other), kernel quantile \(jsonNumber(quantile)), \(count) \
            \(trajectory ? "sampling runs at" : "points per σ perturbed at") D=\(d); \
            lean: 0 answers as at D=\(d), 1 as at D=\(other)
            """)
        print("   σ     median e at D=\(d)   median e at D=\(other)   median gap     lean")
        for l in levels {
            print(
                String(
                    format: "%6.3g  %17.4g  %17.4g  %11.4g  %7.3f%@", l.sigma, l.median,
                    l.medianOther, l.medianGap, l.lean, l.leanIsLost ? " *" : ""))
        }
        if levels.contains(where: \.leanIsLost) {
            print(
                """
                * the model's error to either posterior mean is above the gap between them \
                (‖D*_\(other) − D*_\(d)‖²): the lean there says little
                """)
        }
    }

    /// A table, or one JSON object per level.
    private func report(_ fit: [PosteriorFit.Level], header: String, quantile: Double) {
        if json {
            for level in fit {
                print(jsonObject([("kernel_quantile", jsonNumber(quantile))] + fields(level)))
            }
            return
        }
        print(header)
        print("   σ       median e      p90 e     mean e    >10σ   median e there")
        for l in fit {
            print(
                String(
                    format: "%6.3g  %11.4g %10.4g %10.4g  %5.1f%%  %@", l.sigma, l.median, l.p90,
                    l.mean,
                    100 * l.farShare, l.farMedian.isNaN ? "-" : String(format: "%.4g", l.farMedian))
            )
        }
    }

    private func fields(_ l: PosteriorFit.Level) -> [(String, String)] {
        [
            ("sigma", jsonNumber(l.sigma)), ("median", jsonNumber(l.median)),
            ("p90", jsonNumber(l.p90)),
            ("mean", jsonNumber(l.mean)), ("far_share", jsonNumber(l.farShare)),
            ("far_median", jsonNumber(l.farMedian)),
        ]
    }
}
