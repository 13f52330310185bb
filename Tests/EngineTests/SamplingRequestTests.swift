import Engine
import Foundation
import Testing

/// The one sampling path: what every caller (preview, probes, image batches, sweep, sample, eval,
/// fit) gets from a `SamplingRequest` is the prior, the cut, the bits and the latents handled the
/// same way.
@Suite struct SamplingRequestTests {
    let d = AugmentedDimension.finite(8)
    let sampler = Sampler(schedule: NoiseSchedule(steps: 6), solver: .heun, alpha: 0.1)

    func model() -> NetworkDenoiser {
        let net = MLPEDM(config: MLPEDMConfig(dim: 3, width: 16, depth: 2), seed: 5)
        return NetworkDenoiser(network: net, sigmaData: 0.5)
    }

    /// The request draws the cut prior at σ_max, then runs the sampler on the same stream: the
    /// same numbers as doing both by hand, bit for bit. At D = 2 the cut at the 0.97 quantile lies
    /// above the floor (the D = ∞ kernel's), and redraws about 6 of 200 radii (none: 0.97²⁰⁰ ≈
    /// 0.2%), so it shows.
    @Test func drawsTheCutPriorThenRunsTheSampler() throws {
        let d = AugmentedDimension.finite(2)
        let truncation = try #require(
            KernelTruncation.make(quantile: 0.97, dim: 3, augmentedDimension: d))
        let denoiser = model()
        var rng = RandomSource(seed: 9)
        var byHand = Perturbation.prior(
            count: 200, dim: 3, augmentedDimension: d, sigma: 80, truncation: truncation, rng: &rng)
        sampler.run(&byHand, denoiser: denoiser, rng: &rng)
        let request = SamplingRequest(
            denoiser: denoiser, augmentedDimension: d, sampler: sampler, truncation: truncation)
        #expect(request.run(count: 200, seed: 9) == byHand)
        var uncut = RandomSource(seed: 9)
        let whole = SamplingRequest(denoiser: denoiser, augmentedDimension: d, sampler: sampler)
        #expect(whole.sample(count: 200, rng: &uncut) != byHand, "the cut made no difference")
    }

    /// Bits quantize a copy of the weights: the samples are those of the quantized network, and
    /// the model the request was given keeps its weights.
    @Test func bitsQuantizeACopyOfTheWeights() {
        let denoiser = model()
        let weights = denoiser.network.parameters.copy()
        let request = SamplingRequest(
            denoiser: denoiser, augmentedDimension: d, sampler: sampler, bits: 3)
        let sampled = request.run(count: 30, seed: 4)
        #expect(denoiser.network.parameters.values.array == weights.values.array)
        let quantized = denoiser.over(Quantization.quantized(weights, bits: 3))
        var rng = RandomSource(seed: 4)
        var byHand = request.prior(count: 30, rng: &rng)
        sampler.run(&byHand, denoiser: quantized, rng: &rng)
        #expect(sampled == byHand)
        let full = SamplingRequest(denoiser: denoiser, augmentedDimension: d, sampler: sampler)
        #expect(full.run(count: 30, seed: 4) != sampled, "3 bits changed nothing")
        #expect(request.quantized().bits == SamplingRequest.fullBits)
    }

    /// Latents replace the prior draws; a stop asked for gives nil, not half-integrated points.
    @Test func latentsAndStops() {
        let denoiser = model()
        let request = SamplingRequest(denoiser: denoiser, augmentedDimension: d, sampler: sampler)
        var rng = RandomSource(seed: 1)
        let latents = request.prior(count: 20, rng: &rng)
        var a = RandomSource(seed: 2)
        var b = RandomSource(seed: 2)
        var byHand = latents
        sampler.run(&byHand, denoiser: denoiser, rng: &a)
        #expect(request.sample(count: 20, latents: latents, rng: &b) == byHand)
        var c = RandomSource(seed: 2)
        var steps = 0
        let stopped = request.run(
            count: 20, latents: latents, rng: &c,
            shouldStop: {
                steps += 1
                return steps == 2
            })
        #expect(stopped == nil && steps == 2)
    }
}
