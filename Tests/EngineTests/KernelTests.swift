import Engine
import Foundation
import Testing

/// The perturbation kernel against its exact laws. KS bounds at significance 0.001 (see
/// ksCritical).
@Suite struct KernelTests {
    /// R² of `count` kernel draws at σ, read back from the sampled perturbations.
    func squaredRadii(n: Int, d: AugmentedDimension, sigma: Double, count: Int, seed: UInt64)
        -> [Double]
    {
        var rng = RandomSource(seed: seed)
        let x = Perturbation.prior(
            count: count, dim: n, augmentedDimension: d, sigma: sigma, rng: &rng)
        return (0..<count).map { r in
            (0..<n).reduce(0.0) { $0 + Double(x[r, $1]) * Double(x[r, $1]) }
        }
    }

    @Test(arguments: [(2, 4.0), (64, 128.0), (784, 2048.0), (784, 128.0)])
    func radiusFollowsBetaPrime(n: Int, d: Double) {
        // R²/r² ~ Beta-prime(N/2, D/2), i.e. b = R²/(R² + r²) ~ Beta(N/2, D/2).
        let sigma = 0.7
        let r2 = sigma * sigma * d
        let count = n > 100 ? 4000 : 10_000
        let b = squaredRadii(n: n, d: .finite(d), sigma: sigma, count: count, seed: 31).map {
            $0 / ($0 + r2)
        }
        let ks = ksStatistic(b) { regularizedBeta($0, Double(n) / 2, d / 2) }
        #expect(ks < ksCritical(count), "KS \(ks) for N=\(n), D=\(d)")
    }

    /// A cut that keeps almost none of the kernel (D = 0.1: ~5e-5 of it; D = ∞: ~1e-4) used to loop
    /// forever redrawing; the draw now ends after a few tries by inverting the cut kernel's CDF,
    /// and keeps its law.
    @Test(arguments: [
        (2, 0.1, 1e-3), (3, AugmentedDimension.minimum, 1e-2), (2, Double.infinity, 1e-2),
    ])
    func aCutThatKeepsAlmostNothingStillDrawsTheCutLaw(n: Int, d: Double, keptRatio: Double) throws
    {
        let aug: AugmentedDimension = d.isFinite ? .finite(d) : .infinite
        let count = 3000
        // log(R²/σ²) ≤ log(keptRatio·D) for finite D (B/(1 − B) ≤ keptRatio); R²/σ² ≤ keptRatio·N
        // for D = ∞.
        let limit = d.isFinite ? log(keptRatio * d) : log(keptRatio * Double(n))
        var rng = RandomSource(seed: 36)
        let sigmas = [Float](repeating: 1, count: count)
        var x = [Float](repeating: 0, count: count * n)
        Perturbation.sample(into: &x, rows: count, dim: n, sigmas: sigmas, rng: &rng) { _ in
            (aug, limit)
        }
        let r2 = (0..<count).map { r in
            (0..<n).reduce(0.0) { $0 + Double(x[r * n + $1]) * Double(x[r * n + $1]) }
        }
        #expect(r2.allSatisfy { log($0) <= limit + 1e-6 }, "a radius beyond the cut")
        // Against the kernel's CDF renormalised to the cut.
        let cdf: (Double) -> Double =
            d.isFinite
            ? { regularizedBeta(($0 / d) / (1 + $0 / d), Double(n) / 2, d / 2) }
            : { regularizedGammaP(Double(n) / 2, $0 / 2) }
        let kept = cdf(exp(limit))
        #expect(kept > 0 && kept < 0.02)
        let ks = ksStatistic(r2) { cdf($0) / kept }
        #expect(ks < ksCritical(count), "KS \(ks) for N=\(n), D=\(d)")
    }

    @Test(arguments: [2, 64, 784])
    func infiniteDIsGaussian(n: Int) {
        let sigma = 1.3
        let count = 4000
        let chi2 = squaredRadii(n: n, d: .infinite, sigma: sigma, count: count, seed: 32).map {
            $0 / (sigma * sigma)
        }
        #expect(ksStatistic(chi2) { regularizedGammaP(Double(n) / 2, $0 / 2) } < ksCritical(count))
    }

    @Test(arguments: [(2, 8.0), (64, 128.0), (3, 1e4)])
    func meanSquaredRadiusIsSigmaSquaredNDOverDMinusTwo(n: Int, d: Double) {
        let sigma = 0.5
        let count = 40_000
        let r2 = squaredRadii(n: n, d: .finite(d), sigma: sigma, count: count, seed: 33)
        let (m, v) = meanAndVariance(r2)
        let expected = sigma * sigma * Double(n) * d / (d - 2)
        // Five standard errors of the mean (the variance is finite for D > 4).
        #expect(
            abs(m - expected) < 5 * (v / Double(count)).squareRoot(),
            "mean \(m), expected \(expected)")
    }

    @Test func veryLargeDIsIndistinguishableFromInfinity() {
        let n = 16
        let sigma = 2.0
        let count = 10_000
        let chi2 = squaredRadii(n: n, d: .finite(1e7), sigma: sigma, count: count, seed: 34).map {
            $0 / (sigma * sigma)
        }
        #expect(ksStatistic(chi2) { regularizedGammaP(Double(n) / 2, $0 / 2) } < ksCritical(count))
    }

    @Test func paperScaleDAndTinyDStayFinite() {
        let big = squaredRadii(n: 3072, d: .finite(3_072_000), sigma: 1, count: 200, seed: 35)
        // At D ≫ N, R² ≈ σ²N.
        #expect(big.allSatisfy { $0.isFinite && abs($0 / 3072 - 1) < 0.2 })
        for d in [1.0, 0.5, 0.01] {
            let heavy = squaredRadii(n: 2, d: .finite(d), sigma: 1, count: 2000, seed: 36)
            #expect(heavy.allSatisfy { $0.isFinite && $0 > 0 }, "D=\(d)")
        }
    }

    @Test func directionsAreUniform() {
        var rng = RandomSource(seed: 37)
        let count = 10_000
        let plane = Perturbation.prior(
            count: count, dim: 2, augmentedDimension: .finite(3), sigma: 1, rng: &rng)
        let angles = (0..<count).map { atan2(Double(plane[$0, 1]), Double(plane[$0, 0])) }
        #expect(ksStatistic(angles) { ($0 + Double.pi) / (2 * Double.pi) } < ksCritical(count))
        // On the 2-sphere each coordinate of the direction is uniform on [−1, 1] (Archimedes).
        let space = Perturbation.prior(
            count: count, dim: 3, augmentedDimension: .finite(5), sigma: 1, rng: &rng)
        let z = (0..<count).map { r in
            Double(space[r, 2])
                / (0..<3).reduce(0.0) { $0 + Double(space[r, $1] * space[r, $1]) }.squareRoot()
        }
        #expect(ksStatistic(z) { ($0 + 1) / 2 } < ksCritical(count))
    }

    @Test func augmentedDimensionParsing() {
        #expect(AugmentedDimension(parsing: "inf") == .infinite)
        #expect(AugmentedDimension(parsing: "128") == .finite(128))
        #expect(AugmentedDimension(parsing: "0.5") == .finite(0.5))
        #expect(AugmentedDimension(parsing: "3072000")?.description == "3072000")
        for bad in ["0", "-1", "nan", "NaN", "", "abc", "1e999", "-inf"] {
            #expect(AugmentedDimension(parsing: bad) == nil, "\(bad) was accepted")
        }
        #expect(AugmentedDimension.finite(4) < .infinite)
    }
}
