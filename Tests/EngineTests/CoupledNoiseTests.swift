import Engine
import Foundation
import Testing

/// Prior draws coupled across D: the law at each D, and the coupling. KS bounds at significance
/// 0.001 (see ksCritical).
@Suite struct CoupledNoiseTests {
    /// R²/σ² of the coupled draws at D.
    func squaredRatios(_ noise: CoupledNoise, _ d: AugmentedDimension, _ cut: KernelTruncation?)
        -> [Double]
    {
        let x = noise.latents(at: d, sigma: 1.5, truncation: cut)
        return (0..<noise.count).map { r in
            (0..<noise.dim).reduce(0.0) { $0 + Double(x[r, $1]) * Double(x[r, $1]) } / 2.25
        }
    }

    /// The exact CDF of R²/σ² at D (before any cut): D·B/(1 − B) with B ~ Beta(N/2, D/2), or χ²_N.
    func exactCDF(_ n: Int, _ d: AugmentedDimension) -> (Double) -> Double {
        switch d {
        case .finite(let dv): { regularizedBeta(($0 / dv) / (1 + $0 / dv), Double(n) / 2, dv / 2) }
        case .infinite: { regularizedGammaP(Double(n) / 2, $0 / 2) }
        }
    }

    @Test(arguments: [2, 64])
    func theRadiusHasTheKernelsLawAtEveryD(n: Int) {
        let noise = CoupledNoise(count: 3000, dim: n, seed: 5)
        for d in [AugmentedDimension.finite(1), .finite(4), .finite(128), .finite(2048), .infinite]
        {
            let ks = ksStatistic(squaredRatios(noise, d, nil), cdf: exactCDF(n, d))
            #expect(ks < ksCritical(noise.count), "KS \(ks) at N=\(n), D=\(d)")
        }
    }

    /// With the prior cut at the kernel's 0.9 quantile: no radius beyond it, and the law below it
    /// renormalised.
    @Test(arguments: [2, 64])
    func aCutRadiusHasTheCutLaw(n: Int) {
        let noise = CoupledNoise(count: 3000, dim: n, seed: 6)
        for d in [AugmentedDimension.finite(1), .finite(16), .infinite] {
            let cut = KernelTruncation(quantile: 0.9, dim: n, augmentedDimension: d)
            let limit = exp(cut.logMaxSquaredRatio)
            let ratios = squaredRatios(noise, d, cut)
            #expect(ratios.allSatisfy { $0 <= limit * (1 + 1e-5) }, "beyond the cut at D=\(d)")
            let exact = exactCDF(n, d)
            let kept = exact(limit)
            #expect(kept < 1 - 1e-3 || d.isInfinite, "the cut keeps \(kept) at D=\(d)")
            let ks = ksStatistic(ratios) { min(1, exact($0) / kept) }
            #expect(ks < ksCritical(noise.count), "KS \(ks) at N=\(n), D=\(d), cut")
        }
    }

    /// Sample k keeps its direction at every D, and its radius keeps its rank among the samples
    /// (each radius is the same increasing function of u).
    @Test func eachSampleKeepsItsDirectionAndRankAcrossD() {
        let noise = CoupledNoise(count: 200, dim: 3, seed: 7)
        let ds: [AugmentedDimension] = [.finite(1), .finite(16), .finite(2048), .infinite]
        let draws = ds.map { noise.latents(at: $0, sigma: 80, truncation: nil) }
        let order = noise.uniforms.indices.sorted { noise.uniforms[$0] < noise.uniforms[$1] }
        for x in draws {
            let norms = (0..<x.rows).map { r in
                (0..<3).reduce(0.0) { $0 + Double(x[r, $1]) * Double(x[r, $1]) }.squareRoot()
            }
            #expect(zip(order, order.dropFirst()).allSatisfy { norms[$0] <= norms[$1] })
            for r in 0..<x.rows {
                for c in 0..<3 {
                    let unit = Double(x[r, c]) / norms[r]
                    #expect(abs(unit - Double(noise.directions[r, c])) < 1e-5)
                }
            }
        }
        // Fixed by the seed; another seed draws other noise.
        #expect(CoupledNoise(count: 200, dim: 3, seed: 7).uniforms == noise.uniforms)
        #expect(CoupledNoise(count: 200, dim: 3, seed: 8).uniforms != noise.uniforms)
    }
}
