import ArgumentParser
import Engine
import Foundation

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw samples from a trained model or from the oracle denoiser of a point set.",
        discussion: """
            Starts from the prior at σ_max (or from --latents, already at σ_max scale) and solves \
            the probability-flow ODE to σ = 0. Prints the number of denoiser evaluations (NFE).
            """
    )

    @Option(help: "Run directory of a trained model.")
    var ckpt: String?

    @Option(
        help: "A .npy point set (K, N): sample with its exact (oracle) denoiser instead of a model."
    )
    var oracle: String?

    @Option(
        name: .customLong("aug-dim"),
        help:
            """
            Augmented dimension D (a model's own D by default, any D of a one-network run's range; \
            required with --oracle).
            """,
        transform: parseAugmentedDimension)
    var augDim: AugmentedDimension?

    @Option(
        name: .customLong("aug-dims"),
        help:
            """
            Several D at once, e.g. 1,4,16,128,2048,inf (the oracle, or a one-network run's \
            range): one .npy per D (--out with -D<d> before .npy) and one PNG with a row of \
            images, or a density panel, per D.
            """,
        transform: parseAugmentedDimensions)
    var augDims: [AugmentedDimension]?

    @Flag(
        help:
            """
            With --aug-dims: the same noise at every D. Each sample keeps one direction and one \
            quantile u; its radius at each D is that D's prior quantile at u.
            """)
    var coupled = false

    @Option(help: "Number of samples (implied by --latents).")
    var count: Int?

    @OptionGroup var options: SamplerOptions

    @Option(help: "Start from these prior draws (.npy, shape (K, N)).")
    var latents: String?

    @OptionGroup var output: SampleOutputs

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (ckpt == nil) != (oracle == nil) else {
            throw ValidationError("give exactly one of --ckpt DIR or --oracle POINTS.npy")
        }
        if options.quantization.bits != nil && oracle != nil {
            throw ValidationError("--bits applies to a trained model, not to --oracle")
        }
        if oracle != nil && augDim == nil && augDims == nil {
            throw ValidationError("--aug-dim (or --aug-dims) is required with --oracle")
        }
        try validateAcrossD()
        if options.priorQuantile != nil && latents != nil {
            throw ValidationError("--prior-quantile does not apply to --latents")
        }
        if latents == nil {
            guard let count else {
                throw ValidationError("--count is required (or --latents FILE)")
            }
            guard (1...Limits.samples).contains(count) else {
                throw ValidationError("--count must be between 1 and \(Limits.samples)")
            }
        }
    }

    func run() throws {
        threading.apply()
        try attempt(sample)
    }

    /// Draws and solves `Limits.sampleChunk` rows at a time (see `streamRows`), so any count runs
    /// in bounded memory; the .npy and the PNG (of the first chunk) appear together, or neither
    /// does.
    private func sample() throws {
        if let augDims { return try sample(across: augDims) }
        let (denoiser, d, image, trainedQuantile) = try loadDenoiser(at: augDim)
        var rng = RandomSource(seed: options.seed)
        let latentRows = try latentPoints(dim: denoiser.dim)
        let total = latentRows?.rows ?? count ?? 1
        let dim = denoiser.dim
        note(options.describe(count: total, augmentedDimension: d))
        let request = options.request(
            denoiser, augmentedDimension: d, trainedQuantile: trainedQuantile
        ).quantized()
        let outputs = OutputSet()
        let first = try streamRows(outputs, to: output.out, total: total, dim: dim) { start, rows in
            request.sample(
                count: rows, latents: latentRows.map { $0.rows(start..<(start + rows)) },
                rng: &rng)
        }
        if let png = output.png, let first {
            try addPicture(outputs, of: first, image: image, to: png)
        }
        try outputs.commit()
    }

    /// The denoiser, its D, the shape of its samples when they are images, and the kernel quantile
    /// it was trained with.
    func loadDenoiser(at augDim: AugmentedDimension?) throws -> (
        Denoiser, AugmentedDimension, ImageShape?, Double?
    ) {
        if let oracle, let augDim {
            let (points, side, channels) = try Dataset.readPoints(oracle)
            guard points.rows >= 1, points.storage.allSatisfy({ $0.isFinite }) else {
                throw Failure("\(oracle): needs at least one point and only finite values")
            }
            let image =
                side.map { ImageShape(channels: channels ?? 1, side: $0) }
                ?? ImageShape.of(data: oracle, dim: points.cols, channels: nil)
            return (OracleDenoiser(points: points, augmentedDimension: augDim), augDim, image, nil)
        }
        guard let ckpt else { throw Failure("--ckpt or --oracle is required") }
        let (model, config, trained) = try loadTrainedModel(ckpt, augmentedDimension: augDim)
        let image = ImageShape.of(data: config.data, dim: config.dim, channels: config.channels)
        return (model, trained, image, config.kernelQuantile)
    }

    /// The --latents rows, checked against the model's dimension and --count, or nil without
    /// --latents.
    private func latentPoints(dim: Int) throws -> Matrix? {
        guard let latents else { return nil }
        let x = try NPY.readMatrix(latents)
        guard x.cols == dim else {
            throw Failure("\(latents): latents have \(x.cols) coordinates, the model has \(dim)")
        }
        guard x.rows >= 1 else { throw Failure("\(latents): has no rows") }
        if let bad = x.firstNonFinite {
            throw Failure("\(latents): \(bad); latents must be finite")
        }
        if let count, count != x.rows {
            throw Failure("--count \(count) disagrees with the \(x.rows) rows of \(latents)")
        }
        return x
    }
}
