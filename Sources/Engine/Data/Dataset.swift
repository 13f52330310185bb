import Foundation

/// A data set of points y ∈ R^N: a training split, a held-out split for evaluation, and a way to
/// draw fresh samples of the data for metric floors.
public struct Dataset: Sendable {
    public enum Source: Sendable {
        /// A built-in generator (2-D toys, or `manifold` in N dimensions): unlimited independent
        /// draws.
        case generator(name: String, dim: Int)
        /// A finite array of points (a file): draws are random subsets.
        case points(Matrix)
    }

    public let name: String
    public let source: Source
    public let train: Matrix
    public let heldOut: Matrix
    /// Class labels of the training and held-out rows, when the data have them (Fashion-MNIST).
    public var labels: [Int]? = nil
    public var heldOutLabels: [Int]? = nil
    /// The image side when the data are known to be square images.
    public var declaredSide: Int? = nil
    /// Colour channels of image rows (C·H·W values each) when the file said so; nil means 1.
    public var imageChannels: Int? = nil
    /// σ_d when fixed by convention (0.5 for images in [−1, 1]) rather than measured.
    public var declaredSigmaData: Double? = nil

    public var dim: Int { train.cols }

    public static let builtInNames =
        ToyData.twoDimensional + ["manifold"] + FashionMNIST.names.keys.sorted()
    public static let defaultManifoldDim = 64

    /// Loads a built-in data set by name, or a `.npy` array of points (K, N) by path.
    /// Built-ins draw `trainCount` training and `heldOutCount` held-out points; a file holds out
    /// 10% (at least one point).
    public static func load(
        _ spec: String, dim: Int? = nil, trainCount: Int = 50_000, heldOutCount: Int = 10_000
    ) throws(DataError) -> Dataset {
        if let factor = FashionMNIST.names[spec] {
            let n = (FashionMNIST.side / factor) * (FashionMNIST.side / factor)
            if let dim, dim != n {
                throw DataError("--dim \(dim) does not apply: \(spec) has \(n) coordinates")
            }
            return try FashionMNIST.load(spec)
        }
        if builtInNames.contains(spec) {
            let n = spec == "manifold" ? (dim ?? defaultManifoldDim) : 2
            if spec != "manifold", let dim, dim != 2 {
                throw DataError("--dim \(dim) does not apply: \(spec) is 2-D")
            }
            guard n >= 1 && n <= 100_000 else {
                throw DataError("--dim must be between 1 and 100000, got \(n)")
            }
            let source = Source.generator(name: spec, dim: n)
            return Dataset(
                name: spec, source: source,
                train: draw(source, count: trainCount, seed: 1),
                heldOut: draw(source, count: heldOutCount, seed: 2))
        }
        if spec.hasSuffix(".npy") || spec.contains("/") || isIDXName(spec) {
            return try fromFile(spec)
        }
        throw DataError(
            """
            unknown data set '\(spec)'; built in: \(builtInNames.joined(separator: ", ")), or a \
            path to a .npy file of shape (K, N) or an IDX file
            """
        )
    }

    static func isIDXName(_ path: String) -> Bool {
        path.hasSuffix(".gz") || path.hasSuffix("-ubyte") || path.hasSuffix(".idx")
    }

    /// A `.npy` array (K, N), (K, H, W) or (K, C, H, W), or an IDX file (K, …) flattened per row
    /// (bytes scaled to [−1, 1]); square images also give their side and channels.
    public static func readPoints(_ path: String) throws(DataError)
        -> (Matrix, side: Int?, channels: Int?)
    {
        do throws(StorageError) {
            if !path.hasSuffix(".npy") && isIDXName(path) {
                let array = try IDX.read(path)
                guard array.shape.count >= 2 else {
                    throw StorageError(
                        path, "expected IDX data of shape (K, …), found \(array.shape)")
                }
                let side =
                    array.shape.count == 3 && array.shape[1] == array.shape[2]
                    ? array.shape[1] : nil
                return (
                    array.isUnsignedBytes
                        ? ImageOps.scaledFromBytes(array.matrix()) : array.matrix(), side, nil
                )
            }
            let array = try NPY.read(path)
            let s = array.shape
            switch s.count {
            case 2: return (array.matrix(), nil, nil)
            case 3 where s[1] == s[2]: return (array.matrix(), s[1], nil)
            case 4 where s[2] == s[3] && ImageShape.channelCounts.contains(s[1]):
                return (array.matrix(), s[2], s[1])
            case 4 where s[2] == s[3]:
                throw StorageError(
                    path,
                    "(K, C, H, W) images need C = 1 (grey) or 3 (red, green, blue), "
                        + "found C = \(s[1])")
            default:
                throw StorageError(
                    path,
                    """
                    expected (K, N) points or (K, H, W) / (K, C, H, W) square images, found shape \
                    \(s)
                    """
                )
            }
        } catch { throw DataError(error.description) }
    }

    static func fromFile(_ path: String) throws(DataError) -> Dataset {
        let (m, side, channels) = try readPoints(path)
        guard m.cols >= 1 else {
            throw DataError("\(path): its points have no coordinates (shape (\(m.rows), 0))")
        }
        guard m.rows >= 2 else {
            throw DataError("\(path): needs at least 2 points, found \(m.rows)")
        }
        guard m.storage.allSatisfy({ $0.isFinite }) else {
            throw DataError("\(path): contains NaN or infinite values")
        }
        if side != nil, let (lo, hi) = Self.outsideImageRange(m) {
            let range = String(format: "%g to %g", Double(lo), Double(hi))
            throw DataError(
                "\(path): image values run from \(range); images must lie in [−1, 1] "
                    + "(from bytes: x / 127.5 − 1)")
        }
        var rng = RandomSource(seed: 0xDA7A)
        let order = shuffled(m.rows, &rng)
        let held = max(1, m.rows / 10)
        var data = Dataset(
            name: path, source: .points(m),
            train: gather(m, Array(order[held...])), heldOut: gather(m, Array(order[..<held])))
        data.declaredSide = side
        data.imageChannels = channels
        return data
    }

    /// The smallest and largest value when some lie outside [−1, 1] (by more than float rounding),
    /// else nil.
    static func outsideImageRange(_ m: Matrix) -> (Float, Float)? {
        guard let lo = m.storage.min(), let hi = m.storage.max(), lo < -1.001 || hi > 1.001 else {
            return nil
        }
        return (lo, hi)
    }

    /// `count` fresh points for floors and references: independent draws for generators, random
    /// distinct points (with replacement only when the set is too small) for files.
    public func draw(count: Int, seed: UInt64) -> Matrix {
        Self.draw(source, count: count, seed: seed)
    }

    static func draw(_ source: Source, count: Int, seed: UInt64) -> Matrix {
        var rng = RandomSource(seed: seed, stream: 0xDA7A)
        switch source {
        case .generator(let name, let dim):
            if name == "manifold" { return ToyData.manifold(dim: dim, count: count, rng: &rng) }
            return ToyData.draw(name, count: count, rng: &rng) ?? Matrix(rows: 0, cols: 2)
        case .points(let all):
            if count <= all.rows {
                return gather(all, Array(shuffled(all.rows, &rng).prefix(count)))
            }
            return gather(all, (0..<count).map { _ in rng.index(below: all.rows) })
        }
    }

    /// The data's standard deviation σ_d: the root mean of the per-coordinate variances of the
    /// training split.
    public var sigmaData: Double {
        if let declaredSigmaData { return declaredSigmaData }
        let n = train.cols
        let k = train.rows
        var total = 0.0
        for c in 0..<n {
            var mean = 0.0
            for r in 0..<k { mean += Double(train[r, c]) }
            mean /= Double(k)
            var v = 0.0
            for r in 0..<k {
                let d = Double(train[r, c]) - mean
                v += d * d
            }
            total += v / Double(max(k - 1, 1))
        }
        return max((total / Double(n)).squareRoot(), 1e-6)
    }

    static func shuffled(_ n: Int, _ rng: inout RandomSource) -> [Int] {
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
        return order
    }

    static func gather(_ m: Matrix, _ rows: [Int]) -> Matrix {
        var out = Matrix(rows: rows.count, cols: m.cols)
        for (i, r) in rows.enumerated() {
            for c in 0..<m.cols { out[i, c] = m[r, c] }
        }
        return out
    }
}

public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Dataset {
    /// The side of a square image when the data are images: Fashion-MNIST, a file of (K, H, W) or
    /// (K, C, H, W) images, or a file of points whose N is a square ≥ 64 with values in [−1, 1].
    /// Built-in point sets are never images.
    public var imageSide: Int? { imageShape?.side }

    /// The layout of image rows (see `imageSide` for when data are images).
    public var imageShape: ImageShape? {
        if let declaredSide { return ImageShape(channels: imageChannels ?? 1, side: declaredSide) }
        return grayImageSide.map { ImageShape(channels: 1, side: $0) }
    }

    private var grayImageSide: Int? {
        guard case .points = source else { return nil }
        let side = Int(Double(dim).squareRoot().rounded())
        guard side * side == dim, side >= 8 else { return nil }
        let inRange = train.storage.prefix(100_000).allSatisfy { $0 >= -1.001 && $0 <= 1.001 }
        return inRange ? side : nil
    }

    /// A short name for folders: the built-in name, or the file's name without its extension.
    public var shortName: String {
        let base = (name as NSString).lastPathComponent
        for suffix in [".npy", ".gz", ".idx"] where base.hasSuffix(suffix) {
            return String(base.dropLast(suffix.count))
        }
        return base
    }
}

/// A fixed linear map to two screen coordinates: the data's mean and top two principal components.
public struct Projection: Sendable {
    public let mean: [Float]
    /// N×2, row-major.
    public let components: Matrix

    /// Principal components of (up to 5000 rows of) `data`; nil when the eigensolver fails.
    public init?(data: Matrix) {
        let rows = min(data.rows, 5000)
        let n = data.cols
        var mean = [Float](repeating: 0, count: n)
        for r in 0..<rows { for c in 0..<n { mean[c] += data[r, c] / Float(rows) } }
        var centered = data.rows(0..<rows)
        for r in 0..<rows { for c in 0..<n { centered[r, c] -= mean[c] } }
        var covariance = Matrix(rows: n, cols: n)
        BLAS.gemm(
            centered, transposeA: true, centered, into: &covariance,
            alpha: 1 / Float(max(rows - 1, 1)))
        guard let (_, vectors) = BLAS.symmetricEigen(covariance) else { return nil }
        var components = Matrix(rows: n, cols: 2)
        for i in 0..<n {
            components[i, 0] = vectors[i, n - 1]
            components[i, 1] = n >= 2 ? vectors[i, n - 2] : 0
        }
        self.mean = mean
        self.components = components
    }

    public func apply(_ x: Matrix) -> Matrix {
        var centered = x
        for r in 0..<x.rows { for c in 0..<x.cols { centered[r, c] -= mean[c] } }
        var out = Matrix(rows: x.rows, cols: 2)
        BLAS.gemm(centered, components, into: &out)
        return out
    }
}
