import ArgumentParser
import Engine
import Foundation

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
