import Engine
import Foundation
import Testing

/// The Fréchet distance against closed forms, its basic properties, and the fd-fmnist classifier
/// and cache.
@Suite struct FrechetTests {
    func stats(_ mean: [Double], _ cov: [[Double]]) -> FrechetDistance.Statistics {
        FrechetDistance.Statistics(mean: mean, covariance: cov.flatMap { $0 }, count: 100)
    }

    @Test func matchesClosedForms() throws {
        // Diagonal: ‖Δμ‖² + Σ(√a − √b)² = 5 + 1 + 1 + 4.
        let diagonal = try #require(
            FrechetDistance.distance(
                stats([1, 0, 2], [[1, 0, 0], [0, 4, 0], [0, 0, 9]]),
                stats([0, 0, 0], [[4, 0, 0], [0, 1, 0], [0, 0, 1]])))
        #expect(abs(diagonal - 11) < 1e-9)
        // Non-commuting 2×2: Tr √(Σ₁Σ₂) = √(tr(Σ₁Σ₂) + 2√det(Σ₁Σ₂)) for a 2×2 product with positive
        // eigenvalues.
        let a = [[2.0, 0.5], [0.5, 1.0]]
        let b = [[1.0, -0.3], [-0.3, 3.0]]
        let p = [
            [a[0][0] * b[0][0] + a[0][1] * b[1][0], a[0][0] * b[0][1] + a[0][1] * b[1][1]],
            [a[1][0] * b[0][0] + a[1][1] * b[1][0], a[1][0] * b[0][1] + a[1][1] * b[1][1]],
        ]
        let det = p[0][0] * p[1][1] - p[0][1] * p[1][0]
        let expected = 2 + 1 + 1 + 3 - 2 * (p[0][0] + p[1][1] + 2 * det.squareRoot()).squareRoot()
        let general = try #require(FrechetDistance.distance(stats([0, 0], a), stats([0, 0], b)))
        #expect(abs(general - expected) < 1e-9, "\(general) vs \(expected)")
    }

    @Test func zeroForItselfSymmetricAndGrowingWithShift() throws {
        var rng = RandomSource(seed: 7)
        let a = randomMatrix(600, 24, &rng)
        let b = randomMatrix(600, 24, &rng)
        let scale = try #require(FrechetDistance.distance(a, b))
        #expect(try #require(FrechetDistance.distance(a, a)) < 1e-6 * max(scale, 1))
        let ab = try #require(FrechetDistance.distance(a, b))
        let ba = try #require(FrechetDistance.distance(b, a))
        #expect(abs(ab - ba) < 1e-9 * max(ab, 1))
        var last = ab
        for shift: Float in [0.2, 0.4, 0.8] {
            let shifted = Matrix(rows: b.rows, cols: b.cols, storage: b.storage.map { $0 + shift })
            let d = try #require(FrechetDistance.distance(a, shifted))
            #expect(d > last)
            // The mean term alone: 24 coordinates moved by `shift`.
            #expect(
                abs(d - ab - 24 * Double(shift * shift)) < 0.25 * 24 * Double(shift * shift) + 0.05)
            last = d
        }
        var broken = a
        broken[0, 0] = .nan
        #expect(FrechetDistance.distance(broken, b) == nil)
    }

    @Test func classifierLearnsIsCachedAndRebuildsACorruptCache() throws {
        let data = try Dataset.load("fmnist7")
        let dir = temporaryDirectory()
        var lines: [String] = []
        let first = try ImageFrechet.prepare(for: data, cacheDirectory: dir) { lines.append($0) }
        // A 2-layer MLP reaches about 0.83 on 7×7 Fashion-MNIST; 0.75 leaves room for seed-to-seed
        // spread.
        #expect(first.testAccuracy > 0.75)
        #expect(lines.contains { $0.contains("training") })
        let path = dir + "/fd-classifier-fmnist7-v\(ImageClassifier.version).safetensors"
        #expect(FileManager.default.fileExists(atPath: path))

        lines = []
        let second = try ImageFrechet.prepare(for: data, cacheDirectory: dir) { lines.append($0) }
        #expect(lines.isEmpty && second.testAccuracy == first.testAccuracy)

        // Training images score near the floor, noise near the ceiling, and far apart.
        let floor = try #require(first.floor(count: 2000))
        let ceiling = try #require(first.ceiling(count: 2000))
        #expect(floor * 20 < ceiling)
        let test = data.heldOut.rows(0..<2000)
        #expect(try #require(first.distance(test)) < 2 * floor + 0.5)

        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 5] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: path))
        lines = []
        let third = try ImageFrechet.prepare(for: data, cacheDirectory: dir) { lines.append($0) }
        #expect(
            lines.contains { $0.contains("training") } && third.testAccuracy == first.testAccuracy)

        let points = try Dataset.load("moons")
        #expect(throws: DataError.self) {
            try ImageFrechet.prepare(for: points, cacheDirectory: dir)
        }
    }

    /// Told to stop (the studio quitting), the classifier's training ends at its next batch, and
    /// nothing is stored: a half-trained classifier would be loaded as the real one next time.
    @Test func aStoppedClassifierIsNotCached() throws {
        let data = try Dataset.load("fmnist7")
        let dir = temporaryDirectory()
        var batches = 0
        var lines: [String] = []
        #expect(throws: DataError.self) {
            try ImageFrechet.prepare(
                for: data, cacheDirectory: dir, log: { lines.append($0) },
                shouldStop: {
                    batches += 1
                    return batches > 3
                })
        }
        // An epoch is 468 batches; none ended.
        #expect(batches < 10 && !lines.contains { $0.contains("epoch") }, "\(batches): \(lines)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir))?.isEmpty ?? true)
    }

    /// The studio's loader, told to stop while it trains the classifier, returns once its thread
    /// has ended, at the next batch: a process that exited under that thread crashed in its
    /// libraries' destructors (2 of 10 quits soon after opening fmnist14).
    @Test func theStudiosLoaderStopsAndEndsBeforeReturning() throws {
        let data = try Dataset.load("fmnist7")
        let dir = temporaryDirectory()
        let loader = FrechetLoader(for: data, cacheDirectory: dir)
        #expect(waitUntil(30) { loader.progress.contains("classifier") }, "it never began")
        let start = Date()
        loader.stop()
        // Training the classifier whole takes ~20 s on 2 cores; a batch takes milliseconds.
        let waited = Date().timeIntervalSince(start)
        #expect(loader.hasEnded)
        #expect(waited < 10, "stop waited \(waited) s")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir))?.isEmpty ?? true)
    }
}
