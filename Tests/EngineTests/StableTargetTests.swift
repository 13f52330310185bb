import Engine
import Foundation
import Testing

/// The stable target field: each row's posterior mean over the reference batch, at its own σ
/// and D.
@Suite struct StableTargetTests {
    /// Row by row, the target is the oracle's posterior mean over the reference points at that
    /// row's σ and D. Both sum R weighted points in float32 from the same float32 distances, so
    /// they agree to a few R·ε of the points' scale (1e-4 here, with R = 40 and |y| ≤ 3).
    @Test func eachRowIsItsPosteriorMeanAtItsOwnSigmaAndD() {
        var rng = RandomSource(seed: 5)
        let (k, n) = (40, 3)
        let points = randomMatrix(k, n, &rng)
        let dims: [AugmentedDimension] = [
            .finite(1), .finite(2), .finite(8), .infinite, .finite(300),
        ]
        let sigmas: [Float] = [0.05, 0.6, 1.5, 0.3, 4]
        let x = randomMatrix(dims.count, n, &rng)
        var out = [Float](repeating: 0, count: dims.count * n)
        let field = StableTarget(referenceRows: k, dim: n)
        x.storage.withUnsafeBufferPointer { xs in
            points.storage.withUnsafeBufferPointer { ys in
                guard let xb = xs.baseAddress, let yb = ys.baseAddress else { return }
                field.targets(
                    x: xb, rows: dims.count, sigmas: sigmas, dims: dims, reference: yb,
                    into: &out)
            }
        }
        for (r, d) in dims.enumerated() {
            let oracle = OracleDenoiser(points: points, augmentedDimension: d)
            let row = Matrix(rows: 1, cols: n, storage: Array(x.storage[(r * n)..<((r + 1) * n)]))
            let exact = oracle.denoised(row, sigma: Double(sigmas[r])).storage
            for c in 0..<n {
                #expect(abs(out[r * n + c] - exact[c]) < 1e-4, "row \(r) at D=\(d)")
            }
        }
    }

    /// The trainer regresses on y without a reference batch, and on the stable target with one.
    /// On two points at ±1 and D = ∞ that target is tanh(x/σ²): all rows at σ = 6 regress on
    /// nearly the points' mean (mean |t| ≈ E|x|/σ² ≈ 0.13; the bar 0.25), all rows at
    /// σ = 0.02 on their own point (|t| = 1 to float precision).
    @Test func theTrainerRegressesOnTheStableTarget() throws {
        var c = TrainingConfig(
            data: "two", dim: 1, augmentedDimension: .infinite, sigmaData: 1, steps: 10)
        (c.width, c.depth, c.batch, c.pStd) = (8, 1, 512, 1e-6)
        let data = Matrix(rows: 2, cols: 1, storage: [-1, 1])
        func targets(sigma: Double, reference: Int?) throws -> [Float] {
            c.pMean = log(sigma)
            c.referenceBatch = reference
            let trainer = try Trainer(config: c, data: data)
            trainer.threads = 1
            _ = trainer.computeGradients()
            return trainer.lastTargets()
        }
        #expect(try targets(sigma: 6, reference: nil).allSatisfy { abs($0) == 1 })
        let wide = try targets(sigma: 6, reference: 1024)
        let meanSize = wide.reduce(0) { $0 + abs($1) } / Float(wide.count)
        #expect(meanSize < 0.25 && wide.allSatisfy { abs($0) < 0.9 }, "mean |t| \(meanSize)")
        let narrow = try targets(sigma: 0.02, reference: 1024)
        #expect(narrow.allSatisfy { abs(abs($0) - 1) < 1e-5 })
        #expect(narrow.contains { $0 > 0 } && narrow.contains { $0 < 0 })
    }

    /// config.json keeps the reference batch; it must hold the batch, and 0 is off.
    @Test func theConfigKeepsItAndBoundsIt() throws {
        var c = TrainingConfig(
            data: "moons", dim: 2, augmentedDimension: .finite(2), sigmaData: 1, steps: 10)
        c.batch = 64
        TrainingSchedule(referenceBatch: 256).apply(to: &c)
        #expect(c.problem == nil && c.referenceRows == 256)
        let run = RunDirectory(temporaryDirectory() + "/run")
        try run.create()
        try run.writeConfig(c)
        #expect(try run.readConfig().referenceBatch == 256)
        TrainingSchedule(referenceBatch: 0).apply(to: &c)
        #expect(c.referenceBatch == nil && c.referenceRows == nil && c.problem == nil)
        c.referenceBatch = 32
        #expect(c.problem?.contains("from the batch (64)") == true)
        c.referenceBatch = TrainingConfig.largestReferenceBatch + 1
        #expect(c.problem != nil)
    }
}
