import Engine
import Foundation
import Testing

/// The small-D fit and the one network, measured against the oracle's exact posterior mean over a
/// small point set in the plane (the whole kernel's, the same reference for every model).
@Suite struct PosteriorFitTests {
    static let points: Matrix = {
        var rng = RandomSource(seed: 12)
        return Matrix(rows: 48, cols: 2, storage: (0..<96).map { _ in Float(1.5 * rng.normal()) })
    }()
    static let steps = 1500

    /// A small MLP trained for `steps` steps.
    static func train(
        _ dimensions: TrainedDimensions, quantile: Double?, steps: Int = steps, seed: UInt64 = 0,
        draws: OneNetworkDraws = OneNetworkDraws(), referenceBatch: Int? = nil
    ) -> Trainer? {
        var config = TrainingConfig(
            data: "points", dim: 2, dimensions: dimensions, sigmaData: 1.5, steps: steps)
        config.seed = seed
        draws.apply(to: &config)
        config.referenceBatch = referenceBatch
        config.width = 128
        config.depth = 2
        config.batch = 256
        config.learningRate = 2e-3
        config.kernelQuantile = quantile
        guard let trainer = try? Trainer(config: config, data: points) else { return nil }
        trainer.threads = 1
        for _ in 0..<steps { trainer.trainStep() }
        return trainer
    }

    /// Median ‖D_θ − D*‖² at σ = 0.3 and σ = 1 of the trained model at D.
    static func fit(_ trainer: Trainer?, at d: AugmentedDimension) -> [Double] {
        guard let trainer else { return [] }
        let model = trainer.emaDenoiser(at: d)
        model.threads = 1
        return PosteriorFit.measure(
            model, points: points, augmentedDimension: d, sigmas: [0.3, 1], count: 1000
        ).map(\.median)
    }

    /// Trained once for both tests below.
    static let dedicated: [String: [Double]] = [
        "2 whole": fit(train(.one(.finite(2)), quantile: nil), at: .finite(2)),
        "2": fit(train(.one(.finite(2)), quantile: 0.97), at: .finite(2)),
        "8": fit(train(.one(.finite(8)), quantile: 0.97), at: .finite(8)),
        "inf": fit(train(.one(.infinite), quantile: 0.97), at: .infinite),
    ]

    @Test func theOracleFitsItselfExactly() {
        let oracle = OracleDenoiser(points: Self.points, augmentedDimension: .finite(2))
        let fit = PosteriorFit.measure(
            oracle, points: Self.points, augmentedDimension: .finite(2), sigmas: [0.1, 1],
            count: 300)
        #expect(fit.allSatisfy { $0.median == 0 && $0.mean == 0 })
        // At D = 2 the kernel's tail puts points beyond 10σ: P(R > 10r) = 1/101 for N = D = 2
        // (R²/r² ~ Beta-prime(1, 1)), and r = σ√2, so P(R > 10σ) = 1/51; 300 draws give 5.9 on
        // average.
        #expect(fit.allSatisfy { $0.farShare > 0 && $0.farShare < 0.06 })
    }

    /// Measured at these seeds (median e at σ = 0.3, 1): D = 2 whole kernel 0.035, 0.081; cut at
    /// 0.97 0.013, 0.0072; D = ∞ about 0.01, 0.002–0.003 — the whole-kernel D = 2 network is 30–40×
    /// worse than D = ∞ at σ = 1, and the cut takes ~11× of that back. The bars sit at about half
    /// of each measured ratio, so a lost effect fails while seeds and round-off do not (another
    /// seed moves a median by up to ~40%).
    @Test func truncatingTheTailFitsSmallDInTheBulk() throws {
        let f = Self.dedicated
        let whole = try #require(f["2 whole"])
        let cut = try #require(f["2"])
        let gaussian = try #require(f["inf"])
        let found = "D=2: \(whole), cut \(cut); D=∞: \(gaussian)"
        #expect(whole[1] > 15 * gaussian[1], "the small-D deficit is gone? \(found)")
        #expect(
            whole[1] > 5 * cut[1] && whole[0] > 1.5 * cut[0],
            "the cut does not help D = 2: \(found)")
    }

    /// One network over 1..4096,inf trained for 3× the steps of each dedicated model (equal total
    /// compute for D = 2, 8, ∞). Measured here (σ = 0.3, 1): one network 0.0055, 0.0048 at D = 2
    /// (dedicated 0.013, 0.0072), 0.0037, 0.0041 at D = 8 (0.0075, 0.0023), 0.0042, 0.0024 at D = ∞
    /// (0.0091, 0.0028): summed over the two σ, 0.57×, 0.80× and 0.55× the dedicated models' error.
    /// A single σ moves by up to ~40% with the seed, so the bar is on the sum: within 2× of the
    /// dedicated (cut) model at each D; and below half the whole-kernel D = 2 model's at σ = 1.
    @Test func oneNetworkFitsLikeDedicatedModelsAtEqualCompute() throws {
        let range = try #require(AugmentedDimensionRange(parsing: "1..4096,inf"))
        let network = try #require(Self.train(.range(range), quantile: 0.97, steps: 3 * Self.steps))
        for (name, d) in [
            ("2", AugmentedDimension.finite(2)), ("8", .finite(8)), ("inf", .infinite),
        ] {
            let one = Self.fit(network, at: d)
            let own = try #require(Self.dedicated[name])
            #expect(
                one.count == 2 && one.reduce(0, +) < 2 * own.reduce(0, +),
                "D=\(name): one network \(one), dedicated \(own)")
        }
        let whole = try #require(Self.dedicated["2 whole"])
        let one2 = Self.fit(network, at: .finite(2))
        #expect(
            one2[1] < 0.5 * whole[1], "D=2: one network \(one2), whole-kernel dedicated \(whole)")
    }
}
