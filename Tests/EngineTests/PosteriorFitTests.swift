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

    @Test func truncatingTheTailFitsSmallDInTheBulk() throws {
        let plain = try fit(d: .finite(2), quantile: nil)
        let cut = try fit(d: .finite(2), quantile: 0.97)
        let gaussian = try fit(d: .infinite, quantile: nil)
        let gaussianCut = try fit(d: .infinite, quantile: 0.97)
        print("fit D=2: \(plain), D=2 q=0.97: \(cut), D=∞: \(gaussian), D=∞ q=0.97: \(gaussianCut)")
    }
}
