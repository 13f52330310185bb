import Engine
import Foundation
import Testing

/// Seeded random corruptions of valid files: every parser must return or throw its typed error,
/// never crash, hang or allocate beyond the input's size.
@Suite struct FuzzTests {
    /// One corruption of `bytes`: truncation, flipped bytes, a huge 8-byte field, inserted junk,
    /// a NaN payload, or a swapped run of bytes.
    static func corrupt(_ bytes: [UInt8], _ rng: inout RandomSource) -> [UInt8] {
        var b = bytes
        guard !b.isEmpty else { return [UInt8(truncatingIfNeeded: rng.next())] }
        switch rng.index(below: 6) {
        case 0: b = Array(b.prefix(rng.index(below: b.count)))
        case 1:
            for _ in 0..<(1 + rng.index(below: 8)) {
                b[rng.index(below: b.count)] ^= UInt8(1 << rng.index(below: 8))
            }
        case 2:
            let at = rng.index(below: b.count)
            for i in 0..<8 where at + i < b.count {
                b[at + i] = rng.index(below: 2) == 0 ? 0xFF : UInt8(truncatingIfNeeded: rng.next())
            }
        case 3:
            b.insert(
                contentsOf: (0..<(1 + rng.index(below: 16))).map { _ in
                    UInt8(truncatingIfNeeded: rng.next())
                }, at: rng.index(below: b.count))
        case 4:
            let nan: [UInt8] = [0x00, 0x00, 0xC0, 0x7F]
            let at = rng.index(below: b.count)
            for i in 0..<4 where at + i < b.count { b[at + i] = nan[i] }
        default:
            let i = rng.index(below: b.count)
            let j = rng.index(below: b.count)
            b.swapAt(i, j)
        }
        return b
    }

    static let tries = 3000

    /// Feeds `tries` corruptions of `valid` to `decode`, which returns how many values it produced.
    /// Accepted inputs must hold no more values than their bytes; rejections must name the input.
    static func fuzz(_ valid: [UInt8], seed: UInt64, decode: ([UInt8]) throws(StorageError) -> Int)
    {
        var rng = RandomSource(seed: seed)
        var rejected = 0
        for _ in 0..<tries {
            let input = corrupt(valid, &rng)
            do {
                #expect(try decode(input) * 4 <= input.count)
            } catch {
                rejected += 1
                #expect(error.description.hasPrefix("fuzz: "))
            }
        }
        #expect(rejected > tries / 3, "only \(rejected) of \(tries) corruptions were rejected")
    }

    @Test func safetensors() throws {
        let valid = try SafeTensors.encode(
            SafeTensors.File(
                tensors: [
                    NamedTensor(name: "w", shape: [3, 4], values: (0..<12).map(Float.init)),
                    NamedTensor(name: "b", shape: [4], values: [1, 2, 3, 4]),
                ],
                metadata: ["step": "10", "aug_dim": "inf"]))
        Self.fuzz(valid, seed: 91) { input throws(StorageError) in
            let file = try SafeTensors.decode(input, path: "fuzz")
            #expect(file.tensors.allSatisfy { $0.values.count == $0.shape.reduce(1, *) })
            return file.tensors.reduce(0) { $0 + $1.values.count }
        }
    }

    @Test func npy() throws {
        let valid = try NPY.encode(
            NPY.Array(shape: [5, 3], values: (0..<15).map { Float($0) / 3 }))
        Self.fuzz(valid, seed: 92) { input throws(StorageError) in
            let array = try NPY.decode(input, path: "fuzz")
            #expect(array.values.count == array.shape.reduce(1, *))
            return array.values.count
        }
    }

    @Test func runConfigAndStats() throws {
        let dir = temporaryDirectory()
        let run = RunDirectory(dir)
        try run.writeConfig(
            TrainingConfig(
                data: "moons", dim: 2, augmentedDimension: .finite(8), sigmaData: 1, steps: 10))
        let validConfig = try AtomicFile.read(run.configPath)
        let validStats = Array(
            (1...20).map { "{\"step\": \($0 * 10), \"loss\": 0.5}\n" }.joined().utf8)
        var rng = RandomSource(seed: 93)
        var configRejected = 0
        for _ in 0..<1000 {
            try Data(Self.corrupt(validConfig, &rng)).write(
                to: URL(fileURLWithPath: run.configPath))
            do { _ = try run.readConfig() } catch { configRejected += 1 }
        }
        #expect(configRejected > 300)
        for _ in 0..<300 {
            try Data(Self.corrupt(validStats, &rng)).write(to: URL(fileURLWithPath: run.statsPath))
            try run.trimStats(after: 100)
            let kept = try String(contentsOfFile: run.statsPath, encoding: .utf8).split(
                separator: "\n")
            #expect(kept.count <= 10)
        }
    }

    @Test func generatorStateFromAFile() {
        var rng = RandomSource(seed: 94)
        for _ in 0..<1000 {
            let words = (0..<rng.index(below: 9)).map { _ in
                rng.index(below: 3) == 0 ? 0 : rng.next()
            }
            // The spare normal (word 5) only counts when its flag (word 4) is set.
            if let restored = RandomSource(state: words) {
                #expect(Array(restored.state.prefix(5)) == Array(words.prefix(5)))
                #expect(words[4] == 0 || restored.state[5] == words[5])
            }
        }
        #expect(RandomSource(state: [0, 0, 0, 0, 0, 0]) == nil)
    }
}
