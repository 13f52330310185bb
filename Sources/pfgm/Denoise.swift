import ArgumentParser
import Engine
import Foundation

struct Denoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a trained denoiser D_θ(x, σ) on given points.",
        discussion: """
            Writes D_θ(x, σ) = c_skip·x + c_out·F_θ(c_in·x, c_noise) for every row of --input, all \
            at one noise level σ: the estimate of the clean data. Useful to check a model against \
            another implementation.
            """
    )

    @Option(help: "Run directory of a trained model.")
    var ckpt: String

    @Option(
        help:
            """
            Noisy points (.npy, shape (K, N), or images (K, H, W) / (K, C, H, W) flattened per \
            row).
            """
    )
    var input: String

    @Option(help: "Noise level σ of every row.")
    var sigma: Double

    @Option(
        name: .customLong("aug-dim"),
        help: "D to answer at (the run's own; any D of a one-network run's range).",
        transform: parseAugmentedDimension)
    var augDim: AugmentedDimension?

    @OptionGroup var quantization: QuantizationOptions

    @Option(help: "Output .npy file (K, N).")
    var out: String

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard sigma > 0, sigma.isFinite else {
            throw ValidationError("--sigma must be a positive number")
        }
    }

    func run() throws {
        threading.apply()
        try attempt {
            let (model, _, _) = try loadTrainedModel(ckpt, augmentedDimension: augDim)
            quantization.apply(to: model)
            let array = try NPY.read(input)
            let rows = array.shape.first ?? 0
            guard array.shape.count >= 2, rows * model.dim == array.values.count else {
                throw Failure(
                    """
                    \(input): shape \(array.shape) is not K rows of the model's \(model.dim) \
                    coordinates
                    """
                )
            }
            let x = Matrix(rows: rows, cols: model.dim, storage: array.values)
            guard x.rows >= 1 else { throw Failure("\(input): has no rows") }
            if let bad = x.firstNonFinite {
                throw Failure("\(input): \(bad); the input must be finite")
            }
            let denoised = model.denoised(x, sigma: sigma)
            if let bad = denoised.firstNonFinite {
                throw Failure("\(out): the output's \(bad); nothing was written")
            }
            try NPY.write(denoised, to: out)
        }
    }
}
