import Engine
import Foundation
import Testing

/// The distribution functions behind the truncation, against closed forms, and the truncated kernel
/// against the untruncated one.
@Suite struct KernelTruncationTests {
    @Test func betaDistributionFunctionMatchesClosedForms() {
        for x in [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999, 1 - 1e-9] {
            let s = log(x) - log1p(-x)
            let cases: [(Double, Double, Double)] = [
                (1, 3.5, 1 - pow(1 - x, 3.5)), (2.5, 1, pow(x, 2.5)),
                (2, 2, 3 * x * x - 2 * x * x * x), (0.5, 0.5, 2 / Double.pi * asin(x.squareRoot())),
            ]
            for (a, b, exact) in cases {
                let value = SpecialFunctions.betaCDF(logOdds: s, a: a, b: b)
                #expect(
                    abs(value - exact) < 1e-12 + 1e-10 * exact,
                    "I_\(x)(\(a), \(b)) = \(value), exact \(exact)")
            }
        }
    }

    @Test func gammaDistributionFunctionMatchesClosedForms() {
        for x in [1e-4, 0.1, 1, 2.5, 10, 40] {
            let cases: [(Double, Double)] = [
                (1, -expm1(-x)), (2, 1 - exp(-x) * (1 + x)), (0.5, erf(x.squareRoot())),
            ]
            for (a, exact) in cases {
                let value = SpecialFunctions.gammaCDF(x, shape: a)
                #expect(abs(value - exact) < 1e-12, "P(\(a), \(x)) = \(value), exact \(exact)")
            }
        }
    }

    /// N = D = 2: b ~ Beta(1, 1) is uniform, so the 0.97 quantile of R²/σ² = D·b/(1 − b) is
    /// 2·0.97/0.03.
    @Test func quantileForTwoAndTwoIsExact() {
        let t = KernelTruncation(quantile: 0.97, dim: 2, augmentedDimension: .finite(2))
        #expect(abs(exp(t.logMaxSquaredRatio) - 2 * 0.97 / 0.03) < 1e-6)
        // D = ∞, N = 2: R²/σ² ~ χ²₂ = Exp(½), quantile −2·log(1 − q); the floor (q = 1 − 10⁻⁴) wins
        // there.
        #expect(
            abs(
                exp(
                    KernelTruncation.logSquaredRatioQuantile(
                        0.97, dim: 2, augmentedDimension: .infinite)) + 2 * log(0.03)) < 1e-8)
        let g = KernelTruncation(quantile: 0.97, dim: 2, augmentedDimension: .infinite)
        #expect(abs(exp(g.logMaxSquaredRatio) + 2 * log(1e-4)) < 1e-8)
    }

    /// N = 2, D = 8: b ~ Beta(1, 4), P(b ≤ x) = 1 − (1 − x)⁴. Its 0.97 quantile lies inside the
    /// floor, so the cut sits at the floor, R²/σ² = −2·log(10⁻⁴), and removes (1 − b)⁴ of the draws
    /// there: 0.84%.
    @Test func nearGaussianKernelsAreCutOnlyAtTheFloor() {
        let t = KernelTruncation(quantile: 0.97, dim: 2, augmentedDimension: .finite(8))
        let cap = -2 * log(1e-4)
        let b = cap / (cap + 8)
        #expect(abs(exp(t.logMaxSquaredRatio) - cap) < 1e-8)
        #expect(abs(pow(1 - b, 4) - 0.0084) < 1e-4)
    }

    /// Below D = 2 the ratio is held to D = 2's quantile: for N = 2 that is 0.97/0.03, so at D = 1
    /// R²/σ² ≤ 0.97/0.03 and, with b ~ Beta(1, ½), P(b/(1 − b) > t) = (1 + t)^(−½): 17.3% of the
    /// draws are cut.
    @Test func belowTwoTheRatioIsHeldToTwosQuantile() {
        let t = KernelTruncation(quantile: 0.97, dim: 2, augmentedDimension: .finite(1))
        #expect(abs(exp(t.logMaxSquaredRatio) - 0.97 / 0.03) < 1e-6)
        #expect(abs(pow(1 + 0.97 / 0.03, -0.5) - 0.173) < 1e-3)
    }

    /// Where the Beta quantile hands over to its D = ∞ limit, the two agree to ~N/D.
    @Test func largeDMeetsTheGaussianLimit() {
        for n in [2, 196] {
            let finite = KernelTruncation.logSquaredRatioQuantile(
                0.97, dim: n, augmentedDimension: .finite(1e6))
            let limit = KernelTruncation.logSquaredRatioQuantile(
                0.97, dim: n, augmentedDimension: .infinite)
            #expect(abs(finite - limit) < 1e-3, "N=\(n): \(finite) vs \(limit)")
        }
    }

    /// Untruncated draws fall below the cap with the kernel's probability there (q, or more where
    /// the floor wins); truncated draws never exceed it and keep the shape below it (the share
    /// under the untruncated median is 0.5/that). Bounds: 4 binomial standard errors.
    @Test(arguments: [
        (2, "1"), (196, "1"), (2, "2"), (2, "8"), (196, "8"), (2, "128"), (2, "inf"), (196, "inf"),
    ])
    func truncationCutsTheTailAtItsQuantile(n: Int, d: String) throws {
        let aug = try #require(AugmentedDimension(parsing: d))
        let q = 0.97
        let count = 40_000
        let sigma = 0.8
        let t = KernelTruncation(quantile: q, dim: n, augmentedDimension: aug)
        let cap = exp(t.logMaxSquaredRatio) * sigma * sigma
        let full = squaredRadii(n: n, d: aug, sigma: sigma, count: count, truncation: nil, seed: 41)
        let cut = squaredRadii(n: n, d: aug, sigma: sigma, count: count, truncation: t, seed: 42)
        let kept = keptShare(n: n, d: aug, logCap: t.logMaxSquaredRatio)
        #expect(aug < .finite(2) ? kept < q : kept >= q - 1e-9, "N=\(n) D=\(d): kept \(kept)")
        let below = Double(full.filter { $0 <= cap }.count) / Double(count)
        #expect(
            abs(below - kept) < 4 * (kept * (1 - kept) / Double(count)).squareRoot() + 1e-4,
            "N=\(n) D=\(d): \(below) below the cap")
        #expect(
            cut.allSatisfy { $0 <= cap * (1 + 1e-5) },
            "N=\(n) D=\(d): a truncated draw beyond the cap")
        let median = full.sorted()[count / 2]
        let share = Double(cut.filter { $0 <= median }.count) / Double(count)
        let expected = 0.5 / kept
        #expect(
            abs(share - expected) < 4 * (expected * (1 - expected) / Double(count)).squareRoot(),
            "N=\(n) D=\(d): \(share)")
    }

    /// P(R²/σ² ≤ e^logCap) for the whole kernel.
    func keptShare(n: Int, d: AugmentedDimension, logCap: Double) -> Double {
        switch d {
        case .finite(let dv):
            SpecialFunctions.betaCDF(logOdds: logCap - log(dv), a: Double(n) / 2, b: dv / 2)
        case .infinite: SpecialFunctions.gammaCDF(exp(logCap) / 2, shape: Double(n) / 2)
        }
    }

    func squaredRadii(
        n: Int, d: AugmentedDimension, sigma: Double, count: Int, truncation: KernelTruncation?,
        seed: UInt64
    ) -> [Double] {
        var rng = RandomSource(seed: seed)
        let x = Perturbation.prior(
            count: count, dim: n, augmentedDimension: d, sigma: sigma, truncation: truncation,
            rng: &rng)
        return (0..<count).map { r in
            (0..<n).reduce(0.0) { $0 + Double(x[r, $1]) * Double(x[r, $1]) }
        }
    }
}

/// The table a one network trains with, against the cut computed at each D. Its knots lie 0.065
/// apart in log D, so linear interpolation of a smooth limit is off by ~h²/8·|f''| < 10⁻³; the
/// kinks are where it is not smooth: D = 2 (a knot) and, for small N, where the floor takes over
/// (D ≈ 4–8 at N = 2: 0.009 there). A cut 0.02 off in log R² moves the kept share by
/// < 10⁻³.
@Suite struct KernelTruncationTableTests {
    @Test(arguments: [2, 64, 196])
    func theTableCutsAsEachDsOwnKernelDoes(n: Int) throws {
        let range = try #require(AugmentedDimensionRange(parsing: "1..4096,inf"))
        let table = KernelTruncationTable(quantile: 0.97, dim: n, range: range)
        for i in 0...2000 {
            let d = exp(log(4096) * Double(i) / 2000)
            let own = KernelTruncation(quantile: 0.97, dim: n, augmentedDimension: .finite(d))
                .logMaxSquaredRatio
            let cut = table.logMaxSquaredRatio(.finite(d))
            let kept = { (c: Double) in
                SpecialFunctions.betaCDF(logOdds: c - log(d), a: Double(n) / 2, b: d / 2)
            }
            #expect(abs(cut - own) < 0.02, "N=\(n) D=\(d): log cut \(cut), own \(own)")
            #expect(abs(kept(cut) - kept(own)) < 1e-3, "N=\(n) D=\(d): kept share")
        }
        let infinite = KernelTruncation(quantile: 0.97, dim: n, augmentedDimension: .infinite)
        #expect(table.logMaxSquaredRatio(.infinite) == infinite.logMaxSquaredRatio)
    }
}
