import Foundation

/// The preview: sampling the shown D with its model (or the oracle) and measuring it.
extension StudioEngine {
    func makePreview() {
        needsPreview = false
        let start = Stopwatch.now()
        snapshot.state = .sampling
        let d = settings.augmentedDimension
        let (denoiser, source, step) = previewDenoiser(d)
        let count = snapshot.kind.isImage ? Self.previewImages : Self.previewPoints
        var rng = RandomSource(seed: settings.seed)
        // A model's prior is cut where its training kernel was; the oracle's is whole.
        let truncation = denoiser is OracleDenoiser ? nil : bank[d]?.trainer.truncation
        var x = Perturbation.prior(count: count, dim: dataset.dim, augmentedDimension: d, sigma: settings.sigmaMax,
                                   truncation: truncation, rng: &rng)
        var trajectory = [Self.screenPoints(x, projection)], sigmas = [settings.sigmaMax]
        let interrupted = Sampler(schedule: settings.schedule, solver: settings.solver, alpha: settings.alpha)
            .run(&x, denoiser: denoiser, rng: &rng, observe: { [projection] xs, sigma in
                trajectory.append(Self.screenPoints(xs, projection))
                sigmas.append(sigma)
            }, shouldStop: { self.hasPendingCommands })
        if interrupted {
            needsPreview = true
            return
        }
        let seconds = Stopwatch.now() - start
        snapshot.preview = Preview(points: Self.screenPoints(x, projection), trajectory: trajectory, trajectorySigmas: sigmas,
                                   source: source, settings: settings, seconds: seconds)
        if !snapshot.kind.isImage { measure(x, d: d, source: source, step: step) }
        let total = Stopwatch.now() - start
        nextAutoPreview = Stopwatch.now() + max(3, 19 * total)
    }

    func previewDenoiser(_ d: AugmentedDimension) -> (Denoiser, String, Int) {
        if !settings.useOracle, let slot = bank[d] {
            let model = slot.trainer.emaDenoiser()
            if settings.bits < 32 { model.network.parameters = Quantization.quantized(model.network.parameters, bits: settings.bits) }
            return (model, "model D=\(d), step \(slot.trainer.step)", slot.trainer.step)
        }
        let label = bank[d] == nil ? "oracle (no model at D=\(d); t trains one)" : "oracle"
        if let (cached, denoiser) = oracle, cached == d { return (denoiser, label, 0) }
        let k = snapshot.kind.isImage ? 300 : 1000
        let denoiser = OracleDenoiser(points: dataset.train.rows(0..<min(k, dataset.train.rows)), augmentedDimension: d)
        oracle = (d, denoiser)
        return (denoiser, label, 0)
    }

    func measure(_ x: Matrix, d: AugmentedDimension, source: String, step: Int) {
        guard x.storage.allSatisfy({ $0.isFinite }) else { return }
        if floors == nil {
            let k = x.rows
            let reference = dataset.heldOut.rows(0..<min(k, dataset.heldOut.rows))
            let a = dataset.draw(count: k, seed: 101), b = dataset.draw(count: k, seed: 102)
            let h = MMD.bandwidths(for: reference)
            floors = (SlicedWasserstein.distance(a, b), MMD.distance(a, b, bandwidths: h), h, reference)
        }
        guard let floors else { return }
        let row = MetricRow(augmentedDimension: d, source: source.hasPrefix("oracle") ? "oracle" : "model", step: step,
                            swd: SlicedWasserstein.distance(x, floors.reference), swdFloor: floors.swd,
                            mmd: MMD.distance(x, floors.reference, bandwidths: floors.bandwidths), mmdFloor: floors.mmd)
        snapshot.metrics.removeAll { $0.augmentedDimension == d && $0.source == row.source }
        snapshot.metrics.append(row)
        snapshot.metrics.sort { $0.augmentedDimension < $1.augmentedDimension }
    }
}
