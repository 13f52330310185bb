import Engine
import Foundation
import Synchronization
import Testing

/// Whether one network over a range of D tells D apart, not only fits: on the small point set of
/// `PosteriorFitTests`, perturbed by the whole kernel at D, its answers against the exact posterior
/// means at D and at D = 8 (`PosteriorFit.separation`): the lean, per point the two errors compared
/// in units of the gap between the two posteriors, 0 for a model that answers as at D and 1 for one
/// that answers as at D = 8. Compared per σ with a dedicated model trained at that D.
@Suite struct OneNetworkSeparationTests {
    static let sigmas = [0.6, 1, 1.5]
    static let seeds: [UInt64] = [0, 1, 2]
    /// Every model regresses on the stable target over its own batch (`--reference-batch 256`).
    static let referenceBatch = 256
    static let tested: [(String, AugmentedDimension)] = [
        ("1", .finite(1)), ("2", .finite(2)), ("4", .finite(4)), ("inf", .infinite),
    ]

    /// Per tested D, per seed: the dedicated model's levels and the one network's.
    typealias Pair = (dedicated: [PosteriorFit.Separation], one: [PosteriorFit.Separation])

    static func separation(_ trainer: Trainer?, at d: AugmentedDimension)
        -> [PosteriorFit.Separation]
    {
        guard let trainer else { return [] }
        let model = trainer.emaDenoiser(at: d)
        model.threads = 1
        return PosteriorFit.separation(
            model, points: PosteriorFitTests.points, augmentedDimension: d, from: .finite(8),
            sigmas: sigmas, count: 1000)
    }

    /// One seed: dedicated models at 1,500 steps each and one network over 1..4096,inf with the
    /// sharp draws (`OneNetworkDraws.sharp`) at 4,500 (3× each, as in `PosteriorFitTests`), all
    /// with that suite's small MLP, the 0.97 kernel cut and the stable target.
    static func measure(seed: UInt64) -> [String: Pair] {
        let network = AugmentedDimensionRange(parsing: "1..4096,inf").flatMap {
            PosteriorFitTests.train(
                .range($0), quantile: 0.97, steps: 3 * PosteriorFitTests.steps, seed: seed,
                draws: .sharp, referenceBatch: referenceBatch)
        }
        var found: [String: Pair] = [:]
        for (name, d) in tested {
            let own = PosteriorFitTests.train(
                .one(d), quantile: 0.97, seed: seed, referenceBatch: referenceBatch)
            found[name] = (separation(own, at: d), separation(network, at: d))
        }
        return found
    }

    /// The seeds side by side, two at a time.
    static let measured: [[String: Pair]] = {
        let found = Mutex([[String: Pair]](repeating: [:], count: seeds.count))
        DispatchQueue.concurrentPerform(iterations: seeds.count) { k in
            let pairs = measure(seed: seeds[k])
            found.withLock { $0[k] = pairs }
        }
        return found.withLock { $0 }
    }()

    /// The mean over seeds of `value(dedicated level, one-network level)` at D and σ index k.
    static func mean(
        _ name: String, _ k: Int,
        _ value: (PosteriorFit.Separation, PosteriorFit.Separation) -> Double
    ) throws -> Double {
        let values = try measured.map { seed in
            let pair = try #require(seed[name])
            try #require(pair.dedicated.count == sigmas.count && pair.one.count == sigmas.count)
            return value(pair.dedicated[k], pair.one[k])
        }
        return values.reduce(0, +) / Double(values.count)
    }

    /// The one network's lean toward D = 8 less the dedicated model's, averaged over 3 seeds
    /// (docs/results/one-network, "The stable target"). Calibrated on 6 seeds (0–5) of each
    /// recipe on an AMD EPYC (Zen 4); another CPU's rounding moves training as another seed does,
    /// so the bars hold every triple of those seeds by several s.d. of a 3-seed mean. Averaged
    /// over σ, per seed (mean ± s.d.):
    ///
    /// | draws, target | D = 1 | D = 2 | D = 4 | D = ∞ |
    /// |---|---|---|---|---|
    /// | sharp, stable (this) | 0.00 ± 0.01 | 0.01 ± 0.03 | 0.07 ± 0.10 | −0.07 ± 0.09 |
    /// | default, plain | 0.12 ± 0.05 | 0.30 ± 0.08 | 0.27 ± 0.09 | 0.09 ± 0.04 |
    /// | default, stable | −0.05 ± 0.03 | 0.02 ± 0.03 | 0.23 ± 0.09 | 0.05 ± 0.09 |
    ///
    /// Bars over σ: 0.06 at D = 1 and 0.12 at D = 2 (this recipe's worst triple: 0.01 and 0.04;
    /// the plain default's best: 0.08 and 0.25, so all 20 of its triples fail), 0.30 at D = 4
    /// and 0.12 at ∞ (worst triples 0.14 and −0.00), which guard against collapse: at ∞ the
    /// default draws never blurred. Per σ the bars are 0.35 at D = 1, 2 (worst triple 0.20;
    /// the plain default's D = 2 at σ = 0.6 averages 0.42) and 0.60 at D = 4, ∞, where one seed
    /// swings the excess by ±0.4 (worst triple 0.28). The sharp draws with a plain target gave
    /// 0.02 and 0.13 over σ at D = 1, 2 on seeds 0–2, over the bar at D = 2.
    @Test func oneNetworkTellsDApartAsDedicatedModelsDo() throws {
        let pooledBars = ["1": 0.06, "2": 0.12, "4": 0.30, "inf": 0.12]
        for (name, _) in Self.tested {
            let excess = try (0..<Self.sigmas.count).map { k in
                try Self.mean(name, k) { $1.lean - $0.lean }
            }
            let small = ["1", "2"].contains(name)
            for (sigma, e) in zip(Self.sigmas, excess) {
                #expect(
                    e <= (small ? 0.35 : 0.60),
                    "D=\(name) σ=\(sigma): the one network leans \(e) more toward D=8")
            }
            let pooled = excess.reduce(0, +) / Double(excess.count)
            #expect(
                pooled <= pooledBars[name] ?? 0,
                "D=\(name): the one network leans \(pooled) more toward D=8 over σ \(excess)")
        }
    }

    /// The exact posterior means at D = 2 and at D = 8 lean 0 and 1 (the same arithmetic on both
    /// sides, so to rounding of the sums), with errors 0 to their own and the gap to the other;
    /// and they differ on most points (at σ = 1 the two answers are ~0.1 apart, far above the
    /// 10⁻⁸ floor).
    @Test func theLeanPlacesEachPosteriorAtItsOwnEnd() {
        let points = PosteriorFitTests.points
        for (d, lean) in [(AugmentedDimension.finite(2), 0.0), (.finite(8), 1.0)] {
            let oracle = OracleDenoiser(points: points, augmentedDimension: d)
            let found = PosteriorFit.separation(
                oracle, points: points, augmentedDimension: .finite(2), from: .finite(8),
                sigmas: [0.6, 1], count: 300)
            #expect(found.count == 2)
            for level in found {
                #expect(abs(level.lean - lean) < 1e-9, "oracle at D=\(d): \(level)")
                #expect((d == .finite(2) ? level.median : level.medianOther) == 0)
                #expect((d == .finite(2) ? level.medianOther : level.median) > 1e-4)
                // Each exact mean's error to the other is the gap between them, on every point.
                #expect(max(level.median, level.medianOther) == level.medianGap)
                #expect(!level.leanIsLost)
            }
        }
    }

    /// A model that answers far from both posterior means (the exact one of the points moved
    /// by 5 in each coordinate, ~50 in squared distance against a gap of ~0.01): its lean is
    /// marked as saying little at every σ.
    @Test func aLeanFarFromBothPosteriorsIsMarked() {
        let points = PosteriorFitTests.points
        let moved = Matrix(
            rows: points.rows, cols: points.cols, storage: points.storage.map { $0 + 5 })
        let found = PosteriorFit.separation(
            OracleDenoiser(points: moved, augmentedDimension: .finite(2)), points: points,
            augmentedDimension: .finite(2), from: .finite(8), sigmas: [0.6, 1], count: 300)
        #expect(found.count == 2 && found.allSatisfy(\.leanIsLost), "\(found)")
    }

    /// The same along sampling runs at D = 2, with noise injection: the exact posterior mean
    /// at D = 2 leans 0 and D = 8's leans 1 at every σ_i where the two answers differ (the
    /// large σ_i, where they agree to 10⁻⁸ on every point, carry no lean: nan). Such σ_i are
    /// few: at least 8 of the 12 levels have a lean.
    @Test func theLeanAlongSamplingRunsPlacesEachPosteriorAtItsOwnEnd() {
        let points = PosteriorFitTests.points
        let sampler = Sampler(schedule: NoiseSchedule(steps: 12), solver: .heun, alpha: 0.2)
        for (d, lean) in [(AugmentedDimension.finite(2), 0.0), (.finite(8), 1.0)] {
            let request = SamplingRequest(
                denoiser: OracleDenoiser(points: points, augmentedDimension: d),
                augmentedDimension: .finite(2), sampler: sampler)
            let found = PosteriorFit.separationAlongTrajectory(
                request, points: points, from: .finite(8), kernelQuantile: nil, count: 100)
            #expect(found.count == 12)
            #expect(found.filter { !$0.lean.isNaN }.count >= 8, "\(found)")
            for level in found where !level.lean.isNaN {
                #expect(abs(level.lean - lean) < 1e-9, "oracle at D=\(d): \(level)")
                #expect((d == .finite(2) ? level.median : level.medianOther) == 0)
            }
        }
    }

    /// The fit itself at D = 1, 2 and 4: the one network's median error over the dedicated
    /// model's, averaged over the seeds, per σ. Measured per seed over seeds 0–5: 0.35–1.77
    /// (the 1.5× of the issue holds on average; largest at σ = 1.5 for D = 1 and 2, where one
    /// seed reads 1.41 and 1.77 and the 6-seed means 1.10 and 1.08); the bar is 2.
    @Test func oneNetworkFitsSmallDAtEachSigma() throws {
        for name in ["1", "2", "4"] {
            for (k, sigma) in Self.sigmas.enumerated() {
                let shared = try Self.mean(name, k) { $1.median }
                let own = try Self.mean(name, k) { a, _ in a.median }
                #expect(
                    shared < 2 * own,
                    "D=\(name) σ=\(sigma): one network \(shared), dedicated \(own)")
            }
        }
    }

    /// The draws with a feature share: at N = 2 over 1..4096, P(D ≤ 2) is (2/3 − 1/2)/(2/3 −
    /// 2/4098) = 0.2502 for draws uniform in b = N/(N + D), 1/12 for log-uniform ones, so 0.1668
    /// for half of each; ∞ takes its share of all draws. 40,000 draws: s.d. ≤ 0.0022; the bar is 5
    /// of those. No share leaves the generator where the log-uniform draws alone leave it.
    @Test func drawsFollowTheRecordedShares() throws {
        let range = try #require(AugmentedDimensionRange(parsing: "1..4096,inf"))
        let finite = try #require(AugmentedDimensionRange(parsing: "1..4096"))
        let share = { (r: AugmentedDimensionRange, f: Double, test: (AugmentedDimension) -> Bool) in
            var rng = RandomSource(seed: 5)
            let n = 40_000
            let hits = (0..<n).filter { _ in
                test(r.draw(&rng, infinityShare: 0.25, featureShare: f, dim: 2))
            }
            return Double(hits.count) / Double(n)
        }
        let small = { (d: AugmentedDimension) in d.value <= 2 }
        #expect(abs(share(finite, 0, small) - 1.0 / 12) < 0.011)
        #expect(abs(share(finite, 1, small) - 0.2502) < 0.011)
        #expect(abs(share(finite, 0.5, small) - 0.1668) < 0.011)
        #expect(abs(share(range, 0.5, { $0.isInfinite }) - 0.25) < 0.011)
        var rng = RandomSource(seed: 9)
        let wide = (0..<1000).map { _ in
            finite.draw(&rng, infinityShare: 0, featureShare: 1, dim: 196).value
        }
        #expect(wide.allSatisfy { $0 >= 1 && $0 <= 4096 })
        var a = RandomSource(seed: 2)
        var b = RandomSource(seed: 2)
        let old = (0..<100).map { _ in range.draw(&a, infinityShare: 0.25) }
        let none = (0..<100).map { _ in range.draw(&b, infinityShare: 0.25, featureShare: 0) }
        #expect(old == none && a.uniform() == b.uniform())
    }

    /// The P_mean shift raises ln σ at a finite D by shift·N/(N + D) = shift·c_aug/8 and leaves
    /// D = ∞ and every other draw as they were (the same streams: the shift draws nothing).
    @Test func thePMeanShiftRaisesLnSigmaAtFiniteD() throws {
        let range = try #require(AugmentedDimensionRange(parsing: "1..4096,inf"))
        func draws(_ shift: Double?) throws -> (sigmas: [Float], cAug: [Float]) {
            var config = TrainingConfig(
                data: "points", dim: 2, dimensions: .range(range), sigmaData: 1.5, steps: 1)
            (config.width, config.depth, config.batch) = (16, 1, 512)
            config.pMeanShift = shift
            let trainer = try Trainer(config: config, data: PosteriorFitTests.points)
            _ = trainer.computeGradients()
            return trainer.lastDraws()
        }
        let plain = try draws(nil)
        let shifted = try draws(1.5)
        #expect(
            plain.cAug == shifted.cAug && plain.cAug.contains(0) && plain.cAug.contains { $0 > 0 })
        for r in plain.sigmas.indices {
            let expected = log(Double(plain.sigmas[r])) + 1.5 * Double(plain.cAug[r]) / 8
            // float32 σ: a relative error of ~10⁻⁷ in each.
            #expect(abs(log(Double(shifted.sigmas[r])) - expected) < 1e-5, "row \(r)")
        }
        var bad = TrainingConfig(
            data: "points", dim: 2, dimensions: .range(range), sigmaData: 1.5, steps: 1)
        bad.pMeanShift = 9
        #expect(bad.problem != nil)
    }

    /// The words for a one network's draws (sweep reports, the studio): nothing for the defaults,
    /// spelled out or not; what differs otherwise.
    @Test func drawsSayHowTheyDraw() {
        #expect(OneNetworkDraws().phrase(includesInfinity: true) == nil)
        #expect(
            OneNetworkDraws(infinity: 0.25, feature: 0, pMeanShift: 0)
                .phrase(includesInfinity: true) == nil)
        let shifted = "∞ for 0.25 of the draws, the finite ones log-uniform, ln σ's mean + 1.0"
        let phrase = OneNetworkDraws(pMeanShift: 1).phrase(includesInfinity: true)
        #expect(phrase == shifted + "·N/(N + D)")
        #expect(
            OneNetworkDraws.sharp.phrase(includesInfinity: false)
                == "0.75 of the finite ones uniform in N/(N + D), ln σ's mean + 1.0·N/(N + D)")
    }

    /// New one-network runs record their share of ∞ and draw the rest log-uniform unless told; a
    /// run at one D records neither, and a share out of range is refused.
    @Test func newRunsRecordTheirShares() throws {
        let range = try #require(AugmentedDimensionRange(parsing: "1..64,inf"))
        let config = TrainingConfig(
            data: "moons", dim: 2, dimensions: .range(range), sigmaData: 1, steps: 1)
        #expect(config.featureShare == nil && config.infinityShare == 0.25)
        let one = TrainingConfig(
            data: "moons", dim: 2, augmentedDimension: .finite(8), sigmaData: 1, steps: 1)
        #expect(one.featureShare == nil && one.infinityShare == nil)
        var bad = config
        bad.featureShare = 1.5
        #expect(bad.problem != nil)
    }
}
