/// One sampling job, the one way the program samples: `count` draws of the prior at σ_max for D
/// (cut as the model's training kernel was), or given latents already at σ_max scale, integrated
/// to σ = 0 by `sampler` with the denoiser, whose weights are quantized to `bits` first when it is
/// a network and `bits` is below 32.
public struct SamplingRequest {
    public var denoiser: Denoiser
    public var augmentedDimension: AugmentedDimension
    public var sampler: Sampler
    /// Where the prior is cut; nil draws the whole prior.
    public var truncation: KernelTruncation?
    public var bits: Int
    public var scheme: QuantizationScheme

    public static let fullBits = 32

    public init(
        denoiser: Denoiser, augmentedDimension: AugmentedDimension, sampler: Sampler,
        truncation: KernelTruncation? = nil, bits: Int = fullBits,
        scheme: QuantizationScheme = .all
    ) {
        self.denoiser = denoiser
        self.augmentedDimension = augmentedDimension
        self.scheme = scheme
        self.sampler = sampler
        self.truncation = truncation
        self.bits = bits
    }

    /// `count` draws of the prior at σ_max.
    public func prior(count: Int, rng: inout RandomSource) -> Matrix {
        Perturbation.prior(
            count: count, dim: denoiser.dim, augmentedDimension: augmentedDimension,
            sigma: sampler.schedule.sigmaMax, truncation: truncation, rng: &rng)
    }

    /// The same request with the quantization done: a network over quantized copies of its
    /// weights, `bits` then 32. Requests run many times quantize once this way.
    public func quantized() -> SamplingRequest {
        guard bits < Self.fullBits, let model = denoiser as? NetworkDenoiser else { return self }
        var request = self
        request.denoiser = model.over(
            Quantization.quantized(model.network.parameters, bits: bits, scheme: scheme))
        request.bits = Self.fullBits
        return request
    }

    /// Samples from `latents`, or from `count` prior draws, to σ = 0. `observe` sees x after each
    /// step with the σ it reached.
    public func sample(
        count: Int, latents: Matrix? = nil, rng: inout RandomSource,
        observe: ((Matrix, Double) -> Void)? = nil
    ) -> Matrix {
        solve(count: count, latents: latents, rng: &rng, observe: observe, shouldStop: nil).x
    }

    /// `sample`, or nil when `shouldStop`, asked after each step, abandoned the run.
    public func run(
        count: Int, latents: Matrix? = nil, rng: inout RandomSource,
        observe: ((Matrix, Double) -> Void)? = nil, shouldStop: (() -> Bool)?
    ) -> Matrix? {
        let (x, stopped) = solve(
            count: count, latents: latents, rng: &rng, observe: observe, shouldStop: shouldStop)
        return stopped ? nil : x
    }

    /// `run` from a fresh stream of `seed`.
    public func run(
        count: Int, seed: UInt64, stream: UInt64 = 0, shouldStop: (() -> Bool)? = nil
    ) -> Matrix? {
        var rng = RandomSource(seed: seed, stream: stream)
        return run(count: count, rng: &rng, shouldStop: shouldStop)
    }

    private func solve(
        count: Int, latents: Matrix?, rng: inout RandomSource,
        observe: ((Matrix, Double) -> Void)?, shouldStop: (() -> Bool)?
    ) -> (x: Matrix, stopped: Bool) {
        let solving = quantized()
        var x = latents ?? prior(count: count, rng: &rng)
        let stopped = sampler.run(
            &x, denoiser: solving.denoiser, rng: &rng, observe: observe, shouldStop: shouldStop)
        return (x, stopped)
    }
}
