import CZlib
import Engine
import Foundation
import Testing

/// IDX files (plain and gzip), Fashion-MNIST, pooling, and PNG output checked by an independent
/// decoder.
@Suite struct ImageDataTests {
    func idx(type: UInt8, shape: [UInt32], data: [UInt8]) -> [UInt8] {
        [0, 0, type, UInt8(shape.count)]
            + shape.flatMap {
                [UInt8($0 >> 24), UInt8($0 >> 16 & 255), UInt8($0 >> 8 & 255), UInt8($0 & 255)]
            } + data
    }

    func gzip(_ bytes: [UInt8], to path: String) {
        guard let f = gzopen(path, "wb") else { return }
        _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        gzclose(f)
    }

    func rejection(_ bytes: [UInt8]) -> String? {
        do {
            _ = try IDX.decode(bytes, path: "t.idx")
            return nil
        } catch { return error.problem }
    }

    @Test func decodesEveryTypeBigEndian() throws {
        let bytes = try IDX.decode(
            idx(type: 0x08, shape: [2, 2, 2], data: [0, 1, 127, 128, 200, 255, 3, 4]), path: "u8")
        #expect(bytes.shape == [2, 2, 2] && bytes.isUnsignedBytes)
        #expect(bytes.values == [0, 1, 127, 128, 200, 255, 3, 4])
        #expect(bytes.matrix().rows == 2 && bytes.matrix().cols == 4)
        #expect(
            try IDX.decode(idx(type: 0x09, shape: [2], data: [0xFF, 0x02]), path: "i8").values == [
                -1, 2,
            ])
        #expect(
            try IDX.decode(
                idx(type: 0x0B, shape: [2], data: [0xFF, 0xFE, 0x01, 0x00]), path: "i16"
            ).values == [-2, 256])
        #expect(
            try IDX.decode(
                idx(type: 0x0C, shape: [1], data: [0x00, 0x01, 0x00, 0x00]), path: "i32"
            ).values == [65_536])
        // 1.5 as big-endian float32 and −0.25 as big-endian float64.
        #expect(
            try IDX.decode(idx(type: 0x0D, shape: [1], data: [0x3F, 0xC0, 0, 0]), path: "f32")
                .values == [1.5])
        #expect(
            try IDX.decode(
                idx(type: 0x0E, shape: [1], data: [0xBF, 0xD0, 0, 0, 0, 0, 0, 0]), path: "f64"
            ).values == [-0.25])
    }

    @Test func rejectsMalformedIDX() {
        #expect(rejection([0, 1, 8, 1, 0, 0, 0, 1, 5])?.contains("two zero bytes") == true)
        #expect(rejection([0, 0, 0x42, 1, 0, 0, 0, 1, 5])?.contains("type code") == true)
        #expect(rejection([0, 0, 8, 0])?.contains("rank") == true)
        #expect(rejection([0, 0, 8, 2, 0, 0, 0, 1])?.contains("header") == true)
        #expect(rejection(idx(type: 0x08, shape: [0], data: []))?.contains("is 0") == true)
        #expect(
            rejection(idx(type: 0x08, shape: [3, 3], data: [1, 2, 3]))?.contains("truncated")
                == true)
        #expect(
            rejection(idx(type: 0x08, shape: [1], data: [1, 2]))?.contains("after the data") == true
        )
        #expect(
            rejection(idx(type: 0x0E, shape: [65_536, 65_536], data: []))?.contains(
                "holds more than") == true)
    }

    @Test func readsGzipAndPlainFilesAndRejectsCutGzip() throws {
        let dir = temporaryDirectory()
        let bytes = idx(type: 0x08, shape: [3, 4], data: Array(0..<12))
        gzip(bytes, to: dir + "/a-ubyte.gz")
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/b-ubyte"))
        #expect(try IDX.read(dir + "/a-ubyte.gz").values == (0..<12).map(Float.init))
        #expect(try IDX.read(dir + "/b-ubyte").values == (0..<12).map(Float.init))
        // A larger file cut in half fails in zlib (or in the IDX length check), never silently.
        gzip(
            idx(
                type: 0x08, shape: [100, 100],
                data: (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }), to: dir + "/c.gz"
        )
        let whole = try Data(contentsOf: URL(fileURLWithPath: dir + "/c.gz"))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.gz"))
        #expect(throws: StorageError.self) { try IDX.read(dir + "/cut.gz") }
        var flipped = [UInt8](whole)
        for i in 20..<40 { flipped[i] ^= 0x5A }
        try Data(flipped).write(to: URL(fileURLWithPath: dir + "/flipped.gz"))
        #expect(throws: StorageError.self) { try IDX.read(dir + "/flipped.gz") }
        #expect(throws: StorageError.self) { try IDX.read(dir + "/missing.gz") }
        // A user's IDX file by path becomes a data set of flattened rows scaled to [−1, 1].
        gzip(
            idx(type: 0x08, shape: [20, 2, 2], data: (0..<80).map { UInt8($0 * 3) }),
            to: dir + "/mine-ubyte.gz")
        let data = try Dataset.load(dir + "/mine-ubyte.gz")
        #expect(data.dim == 4 && data.train.rows + data.heldOut.rows == 20)
        #expect(data.train.storage.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    @Test func averagePoolingTakesBlockMeans() {
        // One 4×4 image 0…15 pooled 2×2: block means (0+1+4+5)/4 = 2.5, 4.5, 10.5, 12.5.
        let image = Matrix(rows: 1, cols: 16, storage: (0..<16).map(Float.init))
        #expect(ImageOps.averagePool(image, side: 4, factor: 2).storage == [2.5, 4.5, 10.5, 12.5])
        #expect(
            ImageOps.scaledFromBytes(Matrix(rows: 1, cols: 3, storage: [0, 127.5, 255])).storage
                == [-1, 0, 1])
    }

    @Test func fashionMNISTLoadsWithLabelsAndPools() throws {
        let seven = try Dataset.load("fmnist7")
        #expect(seven.train.rows == 60_000 && seven.heldOut.rows == 10_000 && seven.dim == 49)
        #expect(seven.imageSide == 7 && seven.sigmaData == 0.5)
        let labels = try #require(seven.labels)
        // The training split is balanced: 6,000 of each of the ten classes.
        #expect((0..<10).allSatisfy { c in labels.filter { $0 == c }.count == 6_000 })
        #expect(seven.heldOutLabels?.count == 10_000)
        let full = try Dataset.load("fmnist")
        #expect(full.dim == 784 && full.train.storage.allSatisfy { $0 >= -1 && $0 <= 1 })
        // Pooling the 28×28 images 4×4 gives the 7×7 set.
        let first = ImageOps.averagePool(full.train.rows(0..<3), side: 28, factor: 4)
        for i in 0..<first.storage.count {
            #expect(abs(first.storage[i] - seven.train.storage[i]) < 1e-5)
        }
        #expect(throws: DataError.self) { try Dataset.load("fmnist14", dim: 3) }
        #expect(try Dataset.load("fmnist7", dim: 49).dim == 49)
    }

    @Test func pngDecodesToTheSamePixelsWithAnIndependentDecoder() throws {
        let python = try #require(
            ["/usr/bin/python3", "/usr/local/bin/python3", "/root/.pyenv/shims/python3"]
                .first { FileManager.default.isExecutableFile(atPath: $0) })
        let dir = temporaryDirectory()
        var rng = RandomSource(seed: 8)
        let image = PNG.Gray(
            width: 37, height: 23, pixels: (0..<(37 * 23)).map { _ in UInt8(rng.index(below: 256)) }
        )
        try PNG.write(image, to: dir + "/t.png")
        // Python's zlib and struct, not this project's code: chunk CRCs, IHDR, inflate, filter
        // bytes.
        let script = """
            import struct, sys, zlib
            b = open(sys.argv[1], 'rb').read()
            assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            i, idat, ihdr = 8, b'', None
            while i < len(b):
                n, = struct.unpack('>I', b[i:i+4]); t = b[i+4:i+8]; d = b[i+8:i+8+n]
                assert struct.unpack('>I', b[i+8+n:i+12+n])[0] == zlib.crc32(t + d)
                if t == b'IHDR': ihdr = struct.unpack('>IIBBBBB', d)
                if t == b'IDAT': idat += d
                i += 12 + n
            w, h, depth, color = ihdr[:4]
            assert (depth, color) == (8, 0)
            raw = zlib.decompress(idat)
            rows = [raw[y*(w+1):(y+1)*(w+1)] for y in range(h)]
            assert all(r[0] == 0 for r in rows)
            open(sys.argv[2], 'wb').write(struct.pack('>II', w, h) + b''.join(r[1:] for r in rows))
            """
        try script.write(toFile: dir + "/decode.py", atomically: true, encoding: .utf8)
        #expect(run(python, [dir + "/decode.py", dir + "/t.png", dir + "/t.raw"]) == 0)
        let decoded = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/t.raw")))
        #expect(decoded.prefix(8) == [0, 0, 0, 37, 0, 0, 0, 23])
        #expect(Array(decoded.dropFirst(8)) == image.pixels)
    }

    @Test func pictureIsAGridForImagesAndADensityForPoints() {
        let images = Matrix(rows: 5, cols: 49, storage: (0..<245).map { Float($0 % 3) - 1 })
        let shape = ImageShape.of(data: "fmnist7", dim: 49, channels: nil)
        guard case .gray(let grid)? = PNG.picture(of: images, image: shape) else {
            Issue.record("no grey grid")
            return
        }
        // ⌈√5⌉ = 3 columns, 2 rows of 7·2 + 1 pixel cells, plus the outer gap.
        #expect(grid.width == 3 * 15 + 1 && grid.height == 2 * 15 + 1)
        #expect(grid.pixels[1 * grid.width + 1] == 0)  // the first image's first pixel, −1: black
        let points = Matrix(rows: 400, cols: 2, storage: (0..<800).map { Float($0 % 17) })
        let pointShape = ImageShape.of(data: "checkerboard", dim: 2, channels: nil)
        let density = PNG.picture(of: points, image: pointShape)
        guard case .gray(let scatter)? = density else {
            Issue.record("no density")
            return
        }
        #expect(scatter.width == 512 && scatter.pixels.contains { $0 > 0 })
        #expect(PNG.picture(of: Matrix(rows: 3, cols: 1), image: nil) == nil)
    }

    /// (K, 3, H, W) rows are red, green and blue planes: a colour grid puts each plane in its own
    /// byte.
    @Test func colourImagesMakeAColourGrid() throws {
        let shape = try #require(ImageShape.of(data: "rgb.npy", dim: 3 * 8 * 8, channels: 3))
        #expect(shape == ImageShape(channels: 3, side: 8))
        // One image: red plane +1 (255), green −1 (0), blue 0 (128, rounded from 127.5).
        let planes =
            [Float](repeating: 1, count: 64) + [Float](repeating: -1, count: 64)
            + [Float](repeating: 0, count: 64)
        let image = Matrix(rows: 1, cols: 192, storage: planes)
        guard case .rgb(let grid)? = PNG.picture(of: image, image: shape) else {
            Issue.record("no colour grid")
            return
        }
        #expect(grid.width == 8 * 2 + 2 && grid.height == 8 * 2 + 2)
        let first = 3 * (1 * grid.width + 1)
        #expect(Array(grid.pixels[first..<(first + 3)]) == [255, 0, 128])
        #expect(Array(grid.pixels[0..<3]) == [128, 128, 128], "the gap is mid-grey")
        #expect(ImageShape.of(data: "rgb.npy", dim: 190, channels: 3) == nil)
    }

    @Test func npyImageArraysKeepTheirShapeAndTrainTheUNet() throws {
        let dir = temporaryDirectory()
        var rng = RandomSource(seed: 41)
        let gray = (0..<(20 * 8 * 8)).map { _ in Float(rng.uniform() * 2 - 1) }
        try NPY.write(NPY.Array(shape: [20, 8, 8], values: gray), to: dir + "/gray.npy")
        let g = try Dataset.load(dir + "/gray.npy")
        #expect(g.dim == 64 && g.imageSide == 8 && g.imageChannels == nil)
        let colour = (0..<(20 * 3 * 8 * 8)).map { _ in Float(rng.uniform() * 2 - 1) }
        try NPY.write(NPY.Array(shape: [20, 3, 8, 8], values: colour), to: dir + "/colour.npy")
        let c = try Dataset.load(dir + "/colour.npy")
        #expect(c.dim == 192 && c.imageShape == ImageShape(channels: 3, side: 8))
        let rgba = NPY.Array(shape: [20, 4, 8, 8], values: colour + Array(colour.prefix(20 * 64)))
        try NPY.write(rgba, to: dir + "/rgba.npy")
        #expect { try Dataset.load(dir + "/rgba.npy") } throws: {
            "\($0)".contains("C = 1 (grey) or 3")
        }
        let bytes = NPY.Array(shape: [20, 8, 8], values: gray.map { ($0 + 1) * 127.5 })
        try NPY.write(bytes, to: dir + "/bytes.npy")
        #expect { try Dataset.load(dir + "/bytes.npy") } throws: {
            "\($0)".contains("image values run from")
        }
        try NPY.write(
            NPY.Array(shape: [20, 3, 8, 4], values: Array(colour.prefix(20 * 96))),
            to: dir + "/oblong.npy")
        #expect(throws: DataError.self) { try Dataset.load(dir + "/oblong.npy") }

        var config = TrainingConfig(
            data: "colour.npy", dim: 192, augmentedDimension: .finite(64), sigmaData: 0.5, steps: 2)
        config.architecture = .unet
        config.channels = c.imageChannels
        config.width = 8
        config.depth = 1
        config.batch = 4
        #expect(config.unet == UNetConfig(side: 8, channels: 3, width: 8, depth: 1))
        let trainer = try Trainer(config: config, data: c.train)
        #expect(trainer.trainStep().isFinite && trainer.network is UNet)
        config.channels = 2
        #expect(config.problem?.contains("square images") == true)
        config.channels = 3
        // Names outside the known ones are refused as config.json is read, with what is known.
        let run = RunDirectory(temporaryDirectory() + "/run")
        try run.create()
        try run.writeConfig(config)
        let text = try String(contentsOfFile: run.configPath, encoding: .utf8)
        for (good, bad) in [("\"unet\"", "\"transformer\""), ("\"64\"", "\"sixty\"")] {
            try text.replacingOccurrences(of: good, with: bad).write(
                toFile: run.configPath, atomically: true, encoding: .utf8)
            #expect(throws: StorageError.self) { try run.readConfig() }
            let message = (try? run.readConfig()).map { _ in "" } ?? readError(run)
            #expect(
                message.contains("not known (expected mlp-edm or unet)")
                    || message.contains("'sixty' is not a number"), "\(message)")
        }
    }
}

/// The one-line message a run's config.json is refused with.
func readError(_ run: RunDirectory) -> String {
    do {
        _ = try run.readConfig()
        return ""
    } catch { return error.description }
}
