import Engine
import Foundation
import Testing

/// EDM's stochastic sampler (Algorithm 2): off by default and then exactly the ODE sampler, equal
/// to a float64 transcription of the algorithm on the same noise, reproducible by seed, and still
/// a sampler of the data.
@Suite struct ChurnTests {
    static let sigmaData: Float = 0.5

    func sample(
        _ sampler: Sampler, latents: Matrix, seed: UInt64, denoiser: Denoiser
    ) -> (Matrix, Float) {
        var x = latents
        var rng = RandomSource(seed: seed)
        sampler.run(&x, denoiser: denoiser, rng: &rng)
        var next = [Float](repeating: 0, count: 1)
        next.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
        return (x, next[0])
    }

    /// S_churn 0, or a churn window that holds no σ_i, draws nothing and changes nothing: the same
    /// samples and the same generator state after.
    @Test func theDefaultsChangeNothing() {
        var rng = RandomSource(seed: 3)
        let points = randomMatrix(40, 2, &rng)
        let latents = randomMatrix(64, 2, &rng, scale: 80)
        let oracle = OracleDenoiser(points: points, augmentedDimension: .finite(8))
        let schedule = NoiseSchedule(steps: 12)
        let plain = sample(Sampler(schedule: schedule), latents: latents, seed: 9, denoiser: oracle)
        for churn in [Churn(), Churn(churn: 40, sMin: 100, sMax: 200), Churn(churn: 0, sNoise: 2)] {
            let other = sample(
                Sampler(schedule: schedule, churn: churn), latents: latents, seed: 9,
                denoiser: oracle)
            #expect(other.0.storage == plain.0.storage && other.1 == plain.1, "\(churn)")
        }
    }

    @Test func gammaAndTheSettingsChecks() {
        let c = Churn(churn: 40, sMin: 0.05, sMax: 50)
        #expect(abs(c.gamma(sigma: 10, steps: 18) - (2.0.squareRoot() - 1)) < 1e-15)
        #expect(abs(Churn(churn: 5).gamma(sigma: 10, steps: 18) - 5.0 / 18) < 1e-15)
        #expect(c.gamma(sigma: 80, steps: 18) == 0 && c.gamma(sigma: 0.01, steps: 18) == 0)
        #expect(c.gamma(sigma: 50, steps: 18) > 0 && c.gamma(sigma: 0.05, steps: 18) > 0)
        #expect(Churn(churn: -1).problem != nil && Churn(sMin: 2, sMax: 1).problem != nil)
        #expect(Churn(sNoise: .nan).problem != nil && c.problem == nil)
        let json = try? JSONEncoder().encode(Churn())
        let back = json.flatMap { try? JSONDecoder().decode(Churn.self, from: $0) }
        #expect(back == Churn(), "S_max = ∞ must survive JSON (as null)")
    }

    /// Algorithm 2 in float64 on the Gaussian denoiser, with the noise the sampler draws (the same
    /// generator, filled step by step as the sampler fills it).
    func reference(
        _ latents: Matrix, schedule: NoiseSchedule, solver: Solver, churn: Churn, seed: UInt64
    ) -> [Double] {
        let s2 = Double(Self.sigmaData * Self.sigmaData)
        func slope(_ x: [Double], _ sigma: Double) -> [Double] {
            x.map { ($0 - $0 * s2 / (s2 + sigma * sigma)) / sigma }
        }
        var x = latents.storage.map(Double.init)
        var rng = RandomSource(seed: seed)
        let sigmas = schedule.sigmas
        for i in 0..<(sigmas.count - 1) {
            let next = sigmas[i + 1]
            var sigma = sigmas[i]
            let inside = churn.sMin <= sigma && sigma <= churn.sMax
            let gamma = inside ? min(churn.churn / Double(schedule.steps), 2.0.squareRoot() - 1) : 0
            if gamma > 0 {
                var eps = [Float](repeating: 0, count: x.count)
                eps.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
                let hat = sigma + gamma * sigma
                let scale = (hat * hat - sigma * sigma).squareRoot() * churn.sNoise
                for j in x.indices { x[j] += scale * Double(eps[j]) }
                sigma = hat
            }
            let d = slope(x, sigma)
            var euler = x
            for j in x.indices { euler[j] = x[j] + (next - sigma) * d[j] }
            if solver == .heun && next > 0 {
                let d2 = slope(euler, next)
                for j in x.indices { euler[j] = x[j] + (next - sigma) * 0.5 * (d[j] + d2[j]) }
            }
            x = euler
        }
        return x
    }

    /// The float32 sampler against the float64 reference: each output within 1e-4 of it (float32
    /// keeps about 7 digits; 35 evaluations of a few operations each lose well under 3 of them on
    /// values of order 1 after the churned noise, which reaches σ ≈ 80, has been denoised away).
    @Test(arguments: [Solver.heun, .euler], [10.0, 40.0])
    func matchesAFloat64ReferenceOfAlgorithm2(solver: Solver, churn s: Double) {
        var rng = RandomSource(seed: 21)
        let latents = randomMatrix(64, 3, &rng, scale: 80)
        let denoiser = GaussianDenoiser(dim: 3, sigmaData: Self.sigmaData)
        let schedule = NoiseSchedule(steps: 18)
        let churn = Churn(churn: s, sMin: 0.05, sMax: 50, sNoise: 1.007)
        let (x, _) = sample(
            Sampler(schedule: schedule, solver: solver, churn: churn), latents: latents, seed: 5,
            denoiser: denoiser)
        let want = reference(latents, schedule: schedule, solver: solver, churn: churn, seed: 5)
        let error = zip(x.storage, want).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(error < 1e-4, "largest difference \(error)")
        let (ode, _) = sample(
            Sampler(schedule: schedule, solver: solver), latents: latents, seed: 5,
            denoiser: denoiser)
        let moved = zip(x.storage, ode.storage).map { abs($0 - $1) }.max() ?? 0
        #expect(moved > 0.05, "the churn changed nothing (\(moved))")
    }

    /// With the exact denoiser of N(0, σ_d²) data, the churned sampler still gives that variance
    /// when its steps are fine: at 256 steps, S_churn 40, a float64 simulation of 200,000 samples
    /// puts the bias at +0.75% (+26% at 18 steps, where the churn is capped at √2 − 1). 4000
    /// samples of 2 coordinates estimate the variance with a 1.6% sd, so 5% holds it with room.
    @Test func churnedSamplesOfGaussianDataKeepTheirVariance() {
        var rng = RandomSource(seed: 8)
        let latents = randomMatrix(4000, 2, &rng, scale: 80)
        let denoiser = GaussianDenoiser(dim: 2, sigmaData: Self.sigmaData)
        let sampler = Sampler(schedule: NoiseSchedule(steps: 256), churn: Churn(churn: 40))
        let (x, _) = sample(sampler, latents: latents, seed: 2, denoiser: denoiser)
        let variance = x.storage.reduce(0.0) { $0 + Double($1 * $1) } / Double(x.count)
        #expect(abs(variance / Double(Self.sigmaData * Self.sigmaData) - 1) < 0.05, "\(variance)")
        let (again, _) = sample(sampler, latents: latents, seed: 2, denoiser: denoiser)
        let (other, _) = sample(sampler, latents: latents, seed: 3, denoiser: denoiser)
        #expect(again.storage == x.storage && other.storage != x.storage)
    }
}
