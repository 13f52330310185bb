import Foundation

/// What the preview samples with: the request, the label the panel shows and the model's step.
struct PreviewSource {
    var request: SamplingRequest
    var kind: SampleSource
    var label: String
    var step: Int
    /// The run `pfgm sample --ckpt` reads for the same model (nil: the oracle), and the bank's
    /// slot when the studio holds it.
    var run: String? = nil
    var slot: ModelSlot? = nil
}

/// The preview: sampling the shown D with its model (or the oracle) and measuring it.
extension StudioEngine {
    func makePreview() {
        preview.begin()
        let start = Stopwatch.now()
        snapshot.state = .sampling
        let d = settings.augmentedDimension
        let key = followKey(at: d)
        follow?.shown = key
        let shown = previewSource(d)
        let count = snapshot.kind.isImage ? Self.previewImages : Self.previewPoints
        var rng = RandomSource(seed: settings.seed)
        let prior = shown.request.prior(count: count, rng: &rng)
        var trajectory = [Self.screenPoints(prior, projection)]
        var sigmas = [settings.sigmaMax]
        let sampled = shown.request.run(
            count: count, latents: prior, rng: &rng,
            observe: { [projection] xs, sigma in
                trajectory.append(Self.screenPoints(xs, projection))
                sigmas.append(sigma)
            }, shouldStop: { self.hasPendingCommands })
        guard let x = sampled else {
            preview.ask()
            return
        }
        let source = shown.label
        let step = shown.step
        let seconds = Stopwatch.now() - start
        snapshot.preview = Preview(
            points: Self.screenPoints(x, projection), trajectory: trajectory,
            trajectorySigmas: sigmas,
            source: source, settings: settings, seconds: seconds)
        snapshot.preview?.kind = shown.kind
        snapshot.preview?.step = step
        snapshot.preview?.samples = x
        if snapshot.kind.isImage {
            findNearest()
            startImageBatch(shown)
        } else {
            measure(x, d: d, source: shown.kind, step: step)
        }
        let total = Stopwatch.now() - start
        preview.finished(took: total, now: Stopwatch.now())
    }

    /// What samples the shown D: the one network (when in use and it answers there), the D's own
    /// model, or the oracle; with its label and step. A model's prior is cut as its training
    /// kernel was, and its weights quantized to the shown bits.
    func previewSource(_ d: AugmentedDimension) -> PreviewSource {
        func request(_ model: Denoiser, _ truncation: KernelTruncation?) -> SamplingRequest {
            SamplingRequest(
                denoiser: model, augmentedDimension: d, sampler: settings.sampler,
                truncation: truncation, bits: settings.bits, scheme: settings.quantScheme)
        }
        if let run = followedAnswering(at: d), let model = run.denoiser(at: d) {
            let source =
                "followed \(Self.followedName(run))"
                + (run.config.conditionsOnAugmentedDimension ? " at D=\(d)" : "")
            return PreviewSource(
                request: request(model, run.config.truncation(at: d)), kind: .model,
                label: source + ", step \(run.checkpointStep)", step: run.checkpointStep,
                run: run.run.path)
        }
        if let one = oneNetworkAnswering(at: d), case .range(let range) = one.trainer.dimensions {
            return PreviewSource(
                request: request(
                    one.trainer.emaDenoiser(at: d), one.trainer.config.truncation(at: d)),
                kind: .oneNetwork,
                label: "one network \(range) at D=\(d), step \(one.trainer.step)",
                step: one.trainer.step, run: one.run.path, slot: one)
        }
        if !settings.useOracle, let slot = bank[d] {
            return PreviewSource(
                request: request(slot.trainer.emaDenoiser(), slot.trainer.truncation), kind: .model,
                label: "model D=\(d), step \(slot.trainer.step)", step: slot.trainer.step,
                run: slot.run.path, slot: slot)
        }
        let label =
            isFollowing && !settings.useOracle
            ? "oracle (nothing followed answers at D=\(d) yet)"
            : bank[d] == nil
                ? "oracle (no model at D=\(d); t trains one, n one network for every D)" : "oracle"
        return PreviewSource(
            request: request(oracles.denoiser(at: d), nil), kind: .oracle, label: label, step: 0)
    }

    /// The one network, when the preview uses it at D.
    func oneNetworkAnswering(at d: AugmentedDimension) -> ModelSlot? {
        guard settings.useOneNetwork, !settings.useOracle, let one = oneNetwork,
            one.trainer.dimensions.contains(d)
        else { return nil }
        return one
    }

    func measure(_ x: Matrix, d: AugmentedDimension, source: SampleSource, step: Int) {
        guard let row = pointMetrics.row(x, d: d, source: source, step: step) else { return }
        snapshot.metrics.replace(with: row)
    }
}
