import Foundation

/// Fashion-MNIST from Debian's `dataset-fashion-mnist`: 60,000 training and 10,000 test images of
/// 28×28 garments in ten classes, scaled to [−1, 1]; `fmnist14` and `fmnist7` average-pool them 2×2
/// and 4×4.
public enum FashionMNIST {
    /// Built-in names and their pooling factors.
    public static let names: [String: Int] = ["fmnist": 1, "fmnist14": 2, "fmnist7": 4]
    public static let classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    public static let side = 28

    /// Where the IDX files are: `PFGM_FMNIST_DIR`, else Debian's folder.
    public static var directory: String {
        ProcessInfo.processInfo.environment["PFGM_FMNIST_DIR"]
            ?? "/usr/share/datasets/fashion-mnist"
    }

    static func load(_ name: String) throws(DataError) -> Dataset {
        guard let factor = names[name] else {
            throw DataError("unknown Fashion-MNIST variant '\(name)'")
        }
        let dir = directory
        let train = dir + "/train-images-idx3-ubyte.gz"
        guard FileManager.default.fileExists(atPath: train) else {
            throw DataError(
                """
                \(name): Fashion-MNIST is not installed (no \(train)); install Debian's \
                dataset-fashion-mnist or set PFGM_FMNIST_DIR
                """
            )
        }
        let (trainImages, trainLabels) = try split(dir, "train", factor: factor)
        let (testImages, testLabels) = try split(dir, "t10k", factor: factor)
        let s = side / factor
        return Dataset(
            name: name, source: .points(trainImages), train: trainImages, heldOut: testImages,
            labels: trainLabels, heldOutLabels: testLabels, declaredSide: s, declaredSigmaData: 0.5)
    }

    /// One split's images (scaled, pooled) and labels, checked against each other.
    static func split(_ dir: String, _ prefix: String, factor: Int) throws(DataError) -> (
        Matrix, [Int]
    ) {
        let imagePath = "\(dir)/\(prefix)-images-idx3-ubyte.gz"
        let labelPath = "\(dir)/\(prefix)-labels-idx1-ubyte.gz"
        let images: IDX.Array
        let labels: IDX.Array
        do {
            images = try IDX.read(imagePath)
            labels = try IDX.read(labelPath)
        } catch { throw DataError(error.description) }
        guard images.shape.count == 3, images.shape[1] == side, images.shape[2] == side,
            images.isUnsignedBytes
        else {
            throw DataError(
                """
                \(imagePath): expected unsigned-byte images of shape (K, 28, 28), found \
                \(images.shape)
                """
            )
        }
        guard labels.shape == [images.shape[0]] else {
            throw DataError("\(labelPath): \(labels.shape) labels for \(images.shape[0]) images")
        }
        let pixels = ImageOps.scaledFromBytes(images.matrix())
        return (
            factor == 1 ? pixels : ImageOps.averagePool(pixels, side: side, factor: factor),
            labels.values.map { Int($0) }
        )
    }
}

public enum ImageOps {
    /// Bytes 0…255 to [−1, 1].
    public static func scaledFromBytes(_ m: Matrix) -> Matrix {
        Matrix(rows: m.rows, cols: m.cols, storage: m.storage.map { $0 / 127.5 - 1 })
    }

    /// Each row a side×side image; the mean of each factor×factor block.
    public static func averagePool(_ m: Matrix, side: Int, factor: Int) -> Matrix {
        let out = side / factor
        let scale = 1 / Float(factor * factor)
        var pooled = Matrix(rows: m.rows, cols: out * out)
        m.storage.withUnsafeBufferPointer { src in
            pooled.storage.withUnsafeMutableBufferPointer { dst in
                for r in 0..<m.rows {
                    let image = r * side * side
                    let target = r * out * out
                    for y in 0..<(out * factor) {
                        for x in 0..<(out * factor) {
                            dst[target + (y / factor) * out + x / factor] +=
                                src[image + y * side + x] * scale
                        }
                    }
                }
            }
        }
        return pooled
    }
}

/// How image rows are laid out: `channels` planes (1 grey, 3 red-green-blue) of side×side pixels,
/// plane after plane, as a (K, C, H, W) array flattens; values in [−1, 1].
public struct ImageShape: Sendable, Equatable {
    public let channels: Int
    public let side: Int

    /// The channel counts images may have.
    public static let channelCounts = [1, 3]

    public init(channels: Int, side: Int) {
        self.channels = channels
        self.side = side
    }

    public var isColour: Bool { channels == 3 }
    /// Values in one image row.
    public var values: Int { channels * side * side }

    /// Value of channel `c` at pixel (x, y) of row `r`.
    public func value(_ images: Matrix, _ r: Int, x: Int, y: Int, channel c: Int) -> Float {
        images[r, (c * side + y) * side + x]
    }

    /// The shape of samples of `data` with `dim` values each, when they are images: Fashion-MNIST
    /// by name, colour images by their channel count, and a file whose N is a square of at least 49
    /// as grey images.
    public static func of(data: String, dim: Int, channels: Int?) -> ImageShape? {
        if let factor = FashionMNIST.names[data] {
            return ImageShape(channels: 1, side: FashionMNIST.side / factor)
        }
        let c = channels ?? 1
        guard c >= 1, dim % c == 0 else { return nil }
        let side = Int(Double(dim / c).squareRoot().rounded())
        guard side * side * c == dim else { return nil }
        if c > 1 { return ImageShape(channels: c, side: side) }
        let isFile = !Dataset.builtInNames.contains(data)
        return isFile && side >= 7 ? ImageShape(channels: 1, side: side) : nil
    }
}
