import ArgumentParser
import Engine
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            """
            Score samples against a data set, or sample a trained model and score it; prints one \
            JSON object.
            """,
        discussion: """
            Each metric comes with its floor: the same metric between two independent draws of the \
            data of the samples' size. fd is fd-fmnist, the Fréchet distance in the features of a \
            classifier trained on the data set's training images (Fashion-MNIST only; trained \
            once, in about 15 s for fmnist14 and 30 s for fmnist on 2 cores, and cached in \
            $PFGM_CACHE_DIR or ~/.cache/pfgm), against the test images, with its floor (training \
            images) and ceiling (noise images); use at least 2000 samples. mmd2 is the unbiased \
            estimate of the squared maximum mean discrepancy (RBF kernels at ¼–4× the data's \
            median distance), signed: it falls below 0 when the samples are closer to the data \
            than chance, as the studio shows it. It is quadratic in the number of samples: it is \
            computed on the first \(Evaluation.mmdLimit) samples at most (mmd_count says how \
            many). memorisation is the share of samples closer to a training point than the \
            median distance from held-out data to its nearest training point \
            (memorisation_threshold); held-out data sits near 0.5 (memorisation_floor, measured on \
            other held-out rows), a model that returns training points near 1. With --ckpt the \
            model is sampled first (the sampler's flags as for `pfgm \
            sample`) and the JSON also holds the settings used.
            """
    )

    /// Samples one evaluation scores: the metrics' cost grows with them (200,000 take ~20 s on one
    /// core), and their floors are set by the held-out set long before.
    static let largestCount = 100_000

    @Option(help: "Samples (.npy, shape (K, N)).")
    var samples: String?

    @Option(help: "Run directory of a trained model: sample it, then score the samples.")
    var ckpt: String?

    @Option(help: "Data set name or .npy path (with --ckpt: the run's data by default).")
    var data: String?

    @Option(
        help:
            """
            Comma-separated metrics: \(Evaluation.knownMetrics.joined(separator: ", ")) (default: \
            fd,memorisation for Fashion-MNIST runs with --ckpt, else swd,mmd,memorisation).
            """
    )
    var metric: String?

    @Option(help: "Coordinates of the manifold data set (default: the samples' width).")
    var dim: Int?

    @Option(help: "With --ckpt: number of samples.")
    var count: Int = 2000

    @Option(
        name: .customLong("aug-dim"),
        help: "With --ckpt: augmented dimension D (the model's own by default).",
        transform: parseAugmentedDimension)
    var augDim: AugmentedDimension?

    @OptionGroup var sampling: SamplerOptions

    @Option(help: "With --ckpt: also write the samples here (.npy).")
    var out: String?

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (samples == nil) != (ckpt == nil) else {
            throw ValidationError("give exactly one of --samples FILE or --ckpt DIR")
        }
        if samples != nil {
            guard data != nil else { throw ValidationError("--data is required with --samples") }
            if out != nil {
                throw ValidationError(
                    "--out applies to --ckpt (the samples are already in --samples)")
            }
        }
        guard (2...Self.largestCount).contains(count) else {
            throw ValidationError("--count must be between 2 and \(Self.largestCount)")
        }
        if let out { try requireFolder(of: out) }
    }

    func run() throws {
        threading.apply()
        try attempt {
            let progress = EvalProgress()
            var fields: [(String, String)] = []
            let x: Matrix
            let dataName: String
            let defaultMetrics: String
            if let ckpt {
                let (model, config, d) = try loadTrainedModel(ckpt, augmentedDimension: augDim)
                dataName = try RunDirectory(ckpt).dataSpec(config, override: data)
                defaultMetrics =
                    FashionMNIST.names[config.data] != nil
                    ? "fd,memorisation" : "swd,mmd,memorisation"
                x = draw(model, config: config, augmentedDimension: d, progress: progress)
                if let out { try NPY.write(x, to: out) }
                fields =
                    [("ckpt", jsonString(ckpt)), ("aug_dim", jsonString(d.description))]
                    + sampling.fields(trainedQuantile: config.kernelQuantile)
            } else {
                guard let samples, let data else {
                    throw Failure("--samples and --data are required")
                }
                x = try Dataset.readPoints(samples).0
                (dataName, defaultMetrics) = (data, "swd,mmd,memorisation")
            }
            let dataset = try Dataset.load(
                dataName, dim: dim ?? (dataName == "manifold" ? x.cols : nil))
            let metrics = (metric ?? defaultMetrics).split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let results = try Evaluation.evaluate(
                x, against: dataset, metrics: metrics,
                log: {
                    progress.finish()
                    note($0)
                }, progress: progress.report)
            progress.finish()
            print(
                jsonObject(
                    [("data", jsonString(dataName))] + fields
                        + results.map { ($0.0, jsonNumber($0.1)) }))
        }
    }

    private func draw(
        _ model: NetworkDenoiser, config: TrainingConfig, augmentedDimension d: AugmentedDimension,
        progress: EvalProgress
    ) -> Matrix {
        var rng = RandomSource(seed: sampling.seed)
        let request = sampling.request(
            model, augmentedDimension: d, trainedQuantile: config.kernelQuantile)
        note(sampling.describe(count: count, augmentedDimension: d))
        let steps = Double(sampling.solving.steps)
        var done = 0.0
        return request.sample(
            count: count, rng: &rng,
            observe: { _, _ in
                done += 1
                progress.report("sampling", done / steps)
            })
    }
}
