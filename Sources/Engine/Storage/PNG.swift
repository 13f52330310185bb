import CZlib
import Foundation

/// 8-bit grey and RGB PNG through zlib, and the two pictures samples make: a grid of images (grey
/// or colour), or a density scatter of the first two coordinates.
public enum PNG {
    public struct Gray: Sendable, Equatable {
        public var width: Int
        public var height: Int
        /// Row-major, 0 black … 255 white.
        public var pixels: [UInt8]

        public init(width: Int, height: Int, pixels: [UInt8]) {
            precondition(pixels.count == width * height, "pixel count does not match the size")
            self.width = width
            self.height = height
            self.pixels = pixels
        }
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func write(_ image: Gray, to path: String) throws(StorageError) {
        try AtomicFile.write(try encode(image, path: path), to: path)
    }

    /// 8-bit RGB, three bytes per pixel.
    public struct RGB: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var pixels: [UInt8]

        public init(width: Int, height: Int, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
            self.width = width
            self.height = height
            pixels = (0..<(width * height)).flatMap { _ in
                [background.0, background.1, background.2]
            }
        }

        public mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let i = 3 * (y * width + x)
            pixels[i] = c.0
            pixels[i + 1] = c.1
            pixels[i + 2] = c.2
        }
    }

    public static func write(_ image: RGB, to path: String) throws(StorageError) {
        try AtomicFile.write(try encode(image, path: path), to: path)
    }

    public static func encode(_ image: Gray, path: String = "PNG") throws(StorageError) -> [UInt8] {
        try encode(
            image.pixels, width: image.width, height: image.height, colour: false, path: path)
    }

    public static func encode(_ image: RGB, path: String = "PNG") throws(StorageError) -> [UInt8] {
        try encode(image.pixels, width: image.width, height: image.height, colour: true, path: path)
    }

    static func encode(_ pixels: [UInt8], width: Int, height: Int, colour: Bool, path: String)
        throws(StorageError) -> [UInt8]
    {
        guard width > 0, height > 0 else {
            throw StorageError(path, "an image needs at least one pixel")
        }
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        // 8 bits, grayscale or RGB, deflate, no filter method, no interlace
        header += [8, colour ? 2 : 0, 0, 0, 0]
        let stride = colour ? 3 * width : width
        var raw = [UInt8]()
        raw.reserveCapacity((stride + 1) * height)
        for y in 0..<height {
            raw.append(0)  // filter type None for every row
            raw += pixels[(y * stride)..<((y + 1) * stride)]
        }
        return signature + chunk("IHDR", header) + chunk("IDAT", try deflate(raw, path: path))
            + chunk("IEND", [])
    }

    static func deflate(_ data: [UInt8], path: String) throws(StorageError) -> [UInt8] {
        var size = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { i in
                compress2(o.baseAddress, &size, i.baseAddress, uLong(data.count), 9)
            }
        }
        guard status == Z_OK else {
            throw StorageError(path, "zlib could not compress the image (status \(status))")
        }
        return Array(out.prefix(Int(size)))
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(UInt32(crc))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// What `--png` writes: grey pixels, or colour ones.
    public enum Picture: Sendable, Equatable {
        case gray(Gray)
        case rgb(RGB)

        public var width: Int {
            switch self {
            case .gray(let g): g.width
            case .rgb(let c): c.width
            }
        }
        public var height: Int {
            switch self {
            case .gray(let g): g.height
            case .rgb(let c): c.height
            }
        }

        public func encode(path: String = "PNG") throws(StorageError) -> [UInt8] {
            switch self {
            case .gray(let g): try PNG.encode(g, path: path)
            case .rgb(let c): try PNG.encode(c, path: path)
            }
        }
    }

    /// Rows of `images` (values in [−1, 1], clamped) in a grid `columns` wide, each pixel drawn
    /// `scale`×`scale`, with a one-pixel mid-grey gap: grey for one channel, colour for three.
    public static func imageGrid(
        _ images: Matrix, shape: ImageShape, columns: Int? = nil, scale: Int = 2
    ) -> Picture {
        precondition(
            shape.values == images.cols && images.rows > 0, "rows are not images of this shape")
        let cols = columns ?? Int(Double(images.rows).squareRoot().rounded(.up))
        let gridRows = (images.rows + cols - 1) / cols
        let cell = shape.side * scale + 1
        let width = cols * cell + 1
        let height = gridRows * cell + 1
        var planes = (0..<shape.channels).map { _ in [UInt8](repeating: 128, count: width * height)
        }
        for k in 0..<images.rows {
            let ox = (k % cols) * cell + 1
            let oy = (k / cols) * cell + 1
            for c in 0..<shape.channels {
                for y in 0..<(shape.side * scale) {
                    for x in 0..<(shape.side * scale) {
                        let v = shape.value(images, k, x: x / scale, y: y / scale, channel: c)
                        planes[c][(oy + y) * width + ox + x] = byte(v.isFinite ? (v + 1) / 2 : 0)
                    }
                }
            }
        }
        guard shape.isColour else {
            return .gray(Gray(width: width, height: height, pixels: planes[0]))
        }
        var rgb = RGB(width: width, height: height)
        for i in 0..<(width * height) {
            rgb.pixels[3 * i] = planes[0][i]
            rgb.pixels[3 * i + 1] = planes[1][i]
            rgb.pixels[3 * i + 2] = planes[2][i]
        }
        return .rgb(rgb)
    }

    /// A size×size density of the first two coordinates over their 0.5–99.5% range: black where
    /// none fell, brighter with the log of the count.
    public static func scatter(_ points: Matrix, size: Int = 512) -> Gray {
        precondition(points.cols >= 2, "a scatter needs two coordinates")
        let finite = (0..<points.rows).filter { points[$0, 0].isFinite && points[$0, 1].isFinite }
        let ranges = (0..<2).map { c -> (Float, Float) in
            let v = finite.map { points[$0, c] }.sorted()
            guard let first = v.first, let last = v.last else { return (-1, 1) }
            let lo = v[Int(Double(v.count - 1) * 0.005)]
            let hi = v[Int(Double(v.count - 1) * 0.995)]
            return hi > lo ? (lo, hi) : (first - 1, last + 1)
        }
        var counts = [Int](repeating: 0, count: size * size)
        for r in finite {
            let x = Int(
                ((points[r, 0] - ranges[0].0) / (ranges[0].1 - ranges[0].0) * Float(size - 1))
                    .rounded())
            let y = Int(
                ((ranges[1].1 - points[r, 1]) / (ranges[1].1 - ranges[1].0) * Float(size - 1))
                    .rounded())
            if (0..<size).contains(x), (0..<size).contains(y) { counts[y * size + x] += 1 }
        }
        let top = log(Float((counts.max() ?? 0) + 1))
        return Gray(
            width: size, height: size,
            pixels: counts.map {
                $0 == 0 ? 0 : byte(0.35 + 0.65 * log(Float($0 + 1)) / max(top, 1e-6))
            })
    }

    /// The picture of a set of samples: a grid when they are images of `image`'s shape, else a
    /// density of the first two coordinates (nil for one coordinate).
    public static func picture(of samples: Matrix, image: ImageShape?) -> Picture? {
        if let image, image.values == samples.cols { return imageGrid(samples, shape: image) }
        return samples.cols >= 2 ? .gray(scatter(samples)) : nil
    }

    /// The picture of one sample set per D, the same samples in the same places: images in a grid
    /// with a row per set (its first `columns` samples), densities side by side.
    public static func picture(ofEach sets: [Matrix], image: ImageShape?, columns: Int = 12)
        -> Picture?
    {
        guard let first = sets.first, first.rows > 0 else { return nil }
        if let image, image.values == first.cols {
            let c = min(columns, sets.map(\.rows).min() ?? 0)
            let rows = sets.flatMap { set in (0..<c).map { set.row($0) } }
            return imageGrid(
                Matrix(rows: rows.count, cols: first.cols, storage: rows.flatMap { $0 }),
                shape: image, columns: c)
        }
        guard first.cols >= 2 else { return nil }
        let size = 256
        let gap = 4
        let panels = sets.map { scatter($0, size: size) }
        let width = panels.count * (size + gap) - gap
        var pixels = [UInt8](repeating: 128, count: width * size)
        for (k, panel) in panels.enumerated() {
            for y in 0..<size {
                for x in 0..<size {
                    pixels[y * width + k * (size + gap) + x] = panel.pixels[y * size + x]
                }
            }
        }
        return .gray(Gray(width: width, height: size, pixels: pixels))
    }

    static func byte(_ unit: Float) -> UInt8 { UInt8(max(0, min(255, (unit * 255).rounded()))) }
}
