import KernelInterface

/// Dropout while training: each unit of a block's inner activation is kept with probability 1 − p
/// and then scaled by 1/(1 − p), or set to 0. Whether it is kept hashes (seed, step, block, the
/// row's place in the whole batch, the unit), so a batch cut into parts on any number of threads
/// drops the same units, and backward finds forward's decisions again without storing them.
/// Networks apply it only in passes that keep values for backward: never when sampling.
public struct Dropout: Sendable, Equatable {
    public var probability: Double
    public var seed: UInt64
    public var step: Int
    /// The batch row of this part's row 0.
    public var firstRow: Int

    public init(probability: Double, seed: UInt64, step: Int, firstRow: Int = 0) {
        self.probability = probability
        self.seed = seed
        self.step = step
        self.firstRow = firstRow
    }

    /// SplitMix64's finaliser.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The key of one row of one block; units add to it.
    func rowKey(block: Int, row: Int) -> UInt64 {
        let base = Self.mix(seed ^ Self.mix(UInt64(step)))
        return Self.mix(base ^ Self.mix(UInt64(block) << 40 ^ UInt64(firstRow + row)))
    }

    /// 0 or 1/(1 − p) for unit `unit` of a row's key.
    @inline(__always)
    func factor(_ rowKey: UInt64, unit: Int) -> Float {
        let u = Double(Self.mix(rowKey &+ UInt64(unit)) >> 11) * 0x1p-53
        return u < probability ? 0 : Float(1 / (1 - probability))
    }

    /// Multiplies each row's `width` units (rows `stride` floats apart) by their factors.
    public func apply(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, block: Int
    ) {
        for r in 0..<rows {
            let key = rowKey(block: block, row: r)
            let row = x + r * width
            for j in 0..<width { row[j] *= factor(key, unit: j) }
        }
    }

    /// The same on channels-last images, each unit (pixel q, channel c) = q·C + c, read in place
    /// from a framed copy when `framed`.
    public func apply(
        images x: UnsafeMutablePointer<Float>, _ g: ImageGeometry, channels: Int, block: Int,
        framed: Bool
    ) {
        for image in 0..<g.images {
            let key = rowKey(block: block, row: image)
            for q in 0..<g.pixelsPerImage {
                let pixel =
                    framed ? g.framedPixel(image: image, pixel: q) : image * g.pixelsPerImage + q
                let values = x + pixel * channels
                for c in 0..<channels { values[c] *= factor(key, unit: q * channels + c) }
            }
        }
    }
}
