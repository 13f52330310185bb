import Engine
import Foundation
import Testing

/// The small-D fit, measured against the oracle's exact posterior mean over a small point set in the plane.
@Suite struct PosteriorFitTests {
    static let points: Matrix = {
        var rng = RandomSource(seed: 12)
        return Matrix(rows: 48, cols: 2, storage: (0..<96).map { _ in Float(1.5 * rng.normal()) })
    }()

    /// Median ‖D_θ − D*‖² at σ = 0.3 and σ = 1 of a small MLP trained for `steps` steps.
    func fit(d: AugmentedDimension, quantile: Double?, steps: Int = 1500) throws -> [Double] {
        var config = TrainingConfig(data: "points", dim: 2, augmentedDimension: d, sigmaData: 1.5, steps: steps)
        config.width = 128
        config.depth = 2
        config.batch = 256
        config.learningRate = 2e-3
        config.kernelQuantile = quantile
        let trainer = try Trainer(config: config, data: Self.points)
        trainer.threads = 1
        for _ in 0..<steps { trainer.trainStep() }
        let model = trainer.emaDenoiser()
        model.threads = 1
        return PosteriorFit.measure(model, points: Self.points, augmentedDimension: d, sigmas: [0.3, 1], count: 1000).map(\.median)
    }

    @Test func theOracleFitsItselfExactly() {
        let oracle = OracleDenoiser(points: Self.points, augmentedDimension: .finite(2))
        let fit = PosteriorFit.measure(oracle, points: Self.points, augmentedDimension: .finite(2), sigmas: [0.1, 1], count: 300)
        #expect(fit.allSatisfy { $0.median == 0 && $0.mean == 0 })
        // At D = 2 the kernel's tail puts points beyond 10σ: P(R > 10r) = 1/101 for N = D = 2 (R²/r² ~ Beta-prime(1, 1)),
        // and r = σ√2, so P(R > 10σ) = 1/51; 300 draws give 5.9 on average.
        #expect(fit.allSatisfy { $0.farShare > 0 && $0.farShare < 0.06 })
    }

    /// Measured at these seeds (median e at σ = 0.3, 1): D = 2 whole kernel 0.035, 0.081; cut at 0.97 0.013, 0.0072;
    /// D = ∞ 0.011, 0.0020 — the whole-kernel D = 2 network is 40× worse than D = ∞ at σ = 1, and the cut takes 11× of
    /// that back. The bars sit at about half of each measured ratio, so a lost effect fails while seeds and round-off
    /// do not (another seed moves a median by up to ~40%). D = ∞ is cut only at its floor (KernelTruncationTests).
    @Test func truncatingTheTailFitsSmallDInTheBulk() throws {
        let whole = try fit(d: .finite(2), quantile: nil)
        let cut = try fit(d: .finite(2), quantile: 0.97)
        let gaussian = try fit(d: .infinite, quantile: nil)
        let found = "D=2: \(whole), cut \(cut); D=∞: \(gaussian)"
        #expect(whole[1] > 15 * gaussian[1], "the small-D deficit is gone? \(found)")
        #expect(whole[1] > 5 * cut[1] && whole[0] > 1.5 * cut[0], "the cut does not help D = 2: \(found)")
    }
}
