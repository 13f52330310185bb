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

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Describe a data set, or write one of its splits as .npy.",
        discussion: """
            Prints one JSON object: name, coordinates N, rows of each split, σ_d and the image \
            shape. With --out, also writes the split: images as (K, H, W) or (K, C, H, W), points \
            as (K, N). Training elsewhere on the written training split sees exactly the points \
            `pfgm train` sees.
            """
    )

    enum Split: String, ExpressibleByArgument {
        case train
        case heldOut = "held-out"
    }

    @Option(
        help: "Data set: \(Dataset.builtInNames.joined(separator: ", ")), or a .npy / IDX file.")
    var data: String

    @Option(help: "Coordinates of the manifold data set (N).")
    var dim: Int?

    @Option(help: "Split to write: train or held-out.")
    var split: Split = .train

    @Option(help: "Output .npy file.")
    var out: String?

    func run() throws {
        try attempt {
            let dataset = try Dataset.load(data, dim: dim)
            let rows = split == .train ? dataset.train : dataset.heldOut
            let image = dataset.imageShape
            var fields: [(String, String)] = [
                ("name", jsonString(dataset.name)), ("dim", String(dataset.dim)),
                ("train", String(dataset.train.rows)), ("held_out", String(dataset.heldOut.rows)),
                ("sigma_data", String(dataset.sigmaData)),
            ]
            if let image {
                fields.append(("image", "[\(image.channels), \(image.side), \(image.side)]"))
            }
            if let out {
                let shape =
                    image.map {
                        $0.channels == 1
                            ? [rows.rows, $0.side, $0.side]
                            : [rows.rows, $0.channels, $0.side, $0.side]
                    } ?? [rows.rows, rows.cols]
                try NPY.write(NPY.Array(shape: shape, values: rows.storage), to: out)
                fields.append(("out", jsonString(out)))
            }
            print(jsonObject(fields))
        }
    }
}
