import ArgumentParser
import Engine
import Foundation

/// The solver's settings: the schedule, the solver and noise injection.
struct SolverOptions: ParsableArguments {
    @OptionGroup var schedule: ScheduleOptions

    @Option(help: "Solver: heun or euler.")
    var solver: Solver = .heun

    @Option(help: "Noise injection α: x ← x + α·σ_i·ε at the start of each step.")
    var alpha: Double = 0

    func validate() throws {
        guard alpha >= 0, alpha.isFinite else {
            throw ValidationError("--alpha must be a non-negative number")
        }
    }

    var sampler: Sampler { Sampler(schedule: schedule.schedule, solver: solver, alpha: alpha) }

    /// One line saying what is sampled.
    func describe(count: Int, augmentedDimension d: AugmentedDimension) -> String {
        """
        sampling \(count) points, D=\(d), \(solver.rawValue) with \(schedule.steps) steps: NFE \
        \(schedule.schedule.functionEvaluations(solver))
        """
    }
}

/// The sampler's settings, shared by `sample` and `eval --ckpt`.
struct SamplerOptions: ParsableArguments {
    @OptionGroup var solving: SolverOptions

    @OptionGroup var quantization: QuantizationOptions

    @Option(help: "Seed for the prior draws and injected noise.")
    var seed: UInt64 = 0

    @Option(
        name: .customLong("prior-quantile"),
        help:
            """
            Draw the prior only up to this quantile of the kernel (default: the run's kernel \
            quantile in training; 1: the whole prior).
            """
    )
    var priorQuantile: Double?

    func validate() throws {
        if let q = priorQuantile, !(q >= 0.5 && q <= 1) {
            throw ValidationError("--prior-quantile must be in [0.5, 1]")
        }
    }

    var schedule: ScheduleOptions { solving.schedule }
    var sampler: Sampler { solving.sampler }

    /// Sampling with `denoiser` at D, trained with `trainedQuantile`: the prior cut as
    /// --prior-quantile or the training kernel says (whole when neither cuts), weights at --bits.
    func request(
        _ denoiser: Denoiser, augmentedDimension d: AugmentedDimension, trainedQuantile: Double?
    ) -> SamplingRequest {
        SamplingRequest(
            denoiser: denoiser, augmentedDimension: d, sampler: sampler,
            truncation: KernelTruncation.make(
                quantile: priorQuantile ?? trainedQuantile, dim: denoiser.dim,
                augmentedDimension: d),
            bits: quantization.bits ?? SamplingRequest.fullBits)
    }

    func describe(count: Int, augmentedDimension d: AugmentedDimension) -> String {
        solving.describe(count: count, augmentedDimension: d)
    }

    /// The settings as JSON fields.
    func fields(trainedQuantile: Double?) -> [(String, String)] {
        let s = schedule.schedule
        return [
            ("solver", jsonString(solving.solver.rawValue)), ("steps", String(s.steps)),
            ("nfe", String(s.functionEvaluations(solving.solver))),
            ("sigma_min", jsonNumber(s.sigmaMin)),
            ("sigma_max", jsonNumber(s.sigmaMax)), ("rho", jsonNumber(s.rho)),
            ("alpha", jsonNumber(solving.alpha)),
            ("bits", quantization.bits.map(String.init) ?? "null"), ("seed", String(seed)),
            ("prior_quantile", jsonNumber(priorQuantile ?? trainedQuantile ?? 1)),
        ]
    }
}

/// A run's EMA denoiser at the requested D (its own D, or for one network over a range any D in it,
/// the range's top by default).
func loadTrainedModel(
    _ ckpt: String, augmentedDimension requested: AugmentedDimension?
) throws -> (NetworkDenoiser, TrainingConfig, AugmentedDimension) {
    let (model, config) = try RunDirectory(ckpt).loadDenoiser()
    guard let trained = config.trainedDimensions else { throw Failure("\(ckpt): invalid aug_dim") }
    let d = requested ?? trained.defaultDimension
    guard trained.contains(d) else {
        if case .range(let range) = trained {
            throw Failure(
                "--aug-dim \(d): the one network in \(ckpt) answers for D in \(range) only")
        }
        throw Failure(
            "--aug-dim \(d): the model in \(ckpt) was trained at D=\(trained); its prior must match"
        )
    }
    model.augmentedDimension = d
    return (model, config, d)
}

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

    @Option(help: "Number of samples (implied by --latents).")
    var count: Int?

    @OptionGroup var options: SamplerOptions

    @Option(help: "Start from these prior draws (.npy, shape (K, N)).")
    var latents: String?

    @Option(help: "Output .npy file (K, N).")
    var out: String

    @Option(
        help:
            """
            Also write a PNG: a grid of the samples when they are images, else a density of the \
            first two coordinates.
            """
    )
    var png: String?

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (ckpt == nil) != (oracle == nil) else {
            throw ValidationError("give exactly one of --ckpt DIR or --oracle POINTS.npy")
        }
        if options.quantization.bits != nil && oracle != nil {
            throw ValidationError("--bits applies to a trained model, not to --oracle")
        }
        if oracle != nil && augDim == nil {
            throw ValidationError("--aug-dim is required with --oracle")
        }
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
        // Both outputs are checked before any sampling, so a bad second path cannot leave the first
        // one written.
        for path in [out] + (png.map { [$0] } ?? []) { try requireFolder(of: path) }
    }

    func run() throws {
        threading.apply()
        try attempt(sample)
    }

    /// Draws and solves `Limits.sampleChunk` rows at a time (see `streamRows`), so any count runs
    /// in bounded memory; the .npy and the PNG (of the first chunk) appear together, or neither
    /// does.
    private func sample() throws {
        let (denoiser, d, image, trainedQuantile) = try loadDenoiser()
        var rng = RandomSource(seed: options.seed)
        let latentRows = try latentPoints(dim: denoiser.dim)
        let total = latentRows?.rows ?? count ?? 1
        let dim = denoiser.dim
        note(options.describe(count: total, augmentedDimension: d))
        let request = options.request(
            denoiser, augmentedDimension: d, trainedQuantile: trainedQuantile
        ).quantized()
        let outputs = OutputSet()
        let first = try streamRows(outputs, to: out, total: total, dim: dim) { start, rows in
            request.sample(
                count: rows, latents: latentRows.map { $0.rows(start..<(start + rows)) },
                rng: &rng)
        }
        if let png, let first { try addPicture(outputs, of: first, image: image, to: png) }
        try outputs.commit()
    }

    /// The denoiser, its D, the shape of its samples when they are images, and the kernel quantile
    /// it was trained with.
    private func loadDenoiser() throws -> (Denoiser, AugmentedDimension, ImageShape?, Double?) {
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

/// Writes a (total, dim) float32 .npy into `outputs`, its rows made `Limits.sampleChunk` at a time
/// by `chunk(first row, rows)` and streamed into the temporary file, so memory stays bounded
/// whatever the count. Non-finite values fail the command (nothing is written). Returns the first
/// chunk, for a picture.
func streamRows(
    _ outputs: OutputSet, to out: String, total: Int, dim: Int,
    _ chunk: (Int, Int) -> Matrix
) throws -> Matrix? {
    var first: Matrix?
    try outputs.add(out) { fd throws(StorageError) in
        try AtomicFile.write(NPY.header(shape: [total, dim]), to: fd, path: out)
        for start in stride(from: 0, to: total, by: Limits.sampleChunk) {
            let x = chunk(start, min(Limits.sampleChunk, total - start))
            if let bad = x.firstNonFinite {
                throw StorageError(
                    out,
                    "the values' \(bad) (rows from \(start)); nothing was written "
                        + "(σ, σ_d or the weights are out of float32's range)")
            }
            try NPY.appendValues(x.storage, to: fd, path: out)
            if first == nil { first = x }
        }
    }
    return first
}

/// Adds the PNG of `samples` (a grid of images, else a density of the first two coordinates) to
/// `outputs` under `path`.
func addPicture(_ outputs: OutputSet, of samples: Matrix, image: ImageShape?, to path: String)
    throws
{
    guard let picture = PNG.picture(of: samples, image: image) else {
        throw Failure("--png: one-dimensional samples have no picture")
    }
    try outputs.add(path, bytes: try picture.encode(path: path))
    note("wrote \(path) (\(picture.width)×\(picture.height))")
}

/// Refuses an output path before any work: its folder must exist and the path may only be a regular
/// file.
func requireFolder(of path: String) throws {
    do { try OutputSet.check(path) } catch { throw ValidationError(error.description) }
}

struct Prior: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Draw from the perturbation kernel at σ around the origin (the prior at σ = σ_max).")

    @Option(help: "Data dimension N.")
    var dim: Int

    @Option(
        name: .customLong("aug-dim"), help: "Augmented dimension D: a number ≥ 0.1 or inf.",
        transform: parseAugmentedDimension)
    var augDim: AugmentedDimension

    @Option(help: "Noise level σ (r = σ√D).")
    var sigma: Double

    @Option(help: "Number of draws.")
    var count: Int

    @Option(
        name: .customLong("kernel-quantile"),
        help: "Draw radii only up to this quantile of the kernel (1: the whole kernel).")
    var kernelQuantile: Double = 1

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    @Option(help: "Output .npy file (K, N).")
    var out: String

    @Option(
        help:
            """
            Also write a PNG: a grid of the samples when they are images, else a density of the \
            first two coordinates.
            """
    )
    var png: String?

    func validate() throws {
        guard (1...1_000_000).contains(dim) else {
            throw ValidationError("--dim must be between 1 and 1000000")
        }
        guard sigma > 0, sigma <= NoiseSchedule.largestSigma else {
            throw ValidationError(
                "--sigma must be a positive number up to \(NoiseSchedule.largestSigma)")
        }
        guard (1...Limits.samples).contains(count) else {
            throw ValidationError("--count must be between 1 and \(Limits.samples)")
        }
        guard kernelQuantile >= 0.5 && kernelQuantile <= 1 else {
            throw ValidationError("--kernel-quantile must be in [0.5, 1]")
        }
        for path in [out] + (png.map { [$0] } ?? []) { try requireFolder(of: path) }
    }

    func run() throws {
        var rng = RandomSource(seed: seed)
        let truncation = KernelTruncation.make(
            quantile: kernelQuantile, dim: dim, augmentedDimension: augDim)
        let outputs = OutputSet()
        let first = try streamRows(outputs, to: out, total: count, dim: dim) { _, rows in
            Perturbation.prior(
                count: rows, dim: dim, augmentedDimension: augDim, sigma: sigma,
                truncation: truncation,
                rng: &rng)
        }
        if let png, let first { try addPicture(outputs, of: first, image: nil, to: png) }
        try attempt { try outputs.commit() }
    }
}
