import Foundation

/// The preview: sampling the shown D with its model (or the oracle) and measuring it.
extension StudioEngine {
    func makePreview() {
        needsPreview = false
        let start = Stopwatch.now()
        snapshot.state = .sampling
        let d = settings.augmentedDimension
        let (denoiser, source, step, truncation) = previewDenoiser(d)
        let count = snapshot.kind.isImage ? Self.previewImages : Self.previewPoints
        var rng = RandomSource(seed: settings.seed)
        var x = Perturbation.prior(
            count: count, dim: dataset.dim, augmentedDimension: d, sigma: settings.sigmaMax,
            truncation: truncation, rng: &rng)
        var trajectory = [Self.screenPoints(x, projection)]
        var sigmas = [settings.sigmaMax]
        let interrupted = Sampler(
            schedule: settings.schedule, solver: settings.solver, alpha: settings.alpha
        )
        .run(
            &x, denoiser: denoiser, rng: &rng,
            observe: { [projection] xs, sigma in
                trajectory.append(Self.screenPoints(xs, projection))
                sigmas.append(sigma)
            }, shouldStop: { self.hasPendingCommands })
        if interrupted {
            needsPreview = true
            return
        }
        let seconds = Stopwatch.now() - start
        snapshot.preview = Preview(
            points: Self.screenPoints(x, projection), trajectory: trajectory,
            trajectorySigmas: sigmas,
            source: source, settings: settings, seconds: seconds)
        if snapshot.kind.isImage {
            startImageBatch(denoiser, source: source, step: step, truncation: truncation)
        } else {
            measure(x, d: d, source: source, step: step)
        }
        let total = Stopwatch.now() - start
        nextAutoPreview = Stopwatch.now() + max(3, 19 * total)
    }

    /// What samples the shown D: the one network (when in use and it answers there), the D's own
    /// model, or the oracle; with its label, step and the prior's cut (a model's prior is cut as
    /// its training kernel was).
    func previewDenoiser(_ d: AugmentedDimension) -> (Denoiser, String, Int, KernelTruncation?) {
        followShown = followKey(at: d)
        if let run = followedAnswering(at: d), let model = run.denoiser(at: d) {
            let source =
                "followed \(Self.followedName(run))"
                + (run.config.conditionsOnAugmentedDimension ? " at D=\(d)" : "")
            return (
                quantized(model), source + ", step \(run.checkpointStep)", run.checkpointStep,
                run.config.truncation(at: d)
            )
        }
        if let one = oneNetworkAnswering(at: d), case .range(let range) = one.trainer.dimensions {
            let model = quantized(one.trainer.emaDenoiser(at: d))
            return (
                model, "one network \(range) at D=\(d), step \(one.trainer.step)", one.trainer.step,
                one.trainer.config.truncation(at: d)
            )
        }
        if !settings.useOracle, let slot = bank[d] {
            let model = quantized(slot.trainer.emaDenoiser())
            return (
                model, "model D=\(d), step \(slot.trainer.step)", slot.trainer.step,
                slot.trainer.truncation
            )
        }
        let label =
            isFollowing && !settings.useOracle
            ? "oracle (nothing followed answers at D=\(d) yet)"
            : bank[d] == nil
                ? "oracle (no model at D=\(d); t trains one, n one network for every D)" : "oracle"
        return (oracleDenoiser(at: d), label, 0, nil)
    }

    /// The exact denoiser of (up to 1,000 points, 300 images of) the training set at D, kept for
    /// the last D asked.
    func oracleDenoiser(at d: AugmentedDimension) -> OracleDenoiser {
        if let (cached, denoiser) = oracle, cached == d { return denoiser }
        let k = snapshot.kind.isImage ? 300 : 1000
        let denoiser = OracleDenoiser(
            points: dataset.train.rows(0..<min(k, dataset.train.rows)), augmentedDimension: d)
        oracle = (d, denoiser)
        return denoiser
    }

    /// The one network, when the preview uses it at D.
    func oneNetworkAnswering(at d: AugmentedDimension) -> ModelSlot? {
        guard settings.useOneNetwork, !settings.useOracle, let one = oneNetwork,
            one.trainer.dimensions.contains(d)
        else { return nil }
        return one
    }

    private func quantized(_ model: NetworkDenoiser) -> NetworkDenoiser {
        if settings.bits < 32 {
            model.network.parameters = Quantization.quantized(
                model.network.parameters, bits: settings.bits)
        }
        return model
    }

    func measure(_ x: Matrix, d: AugmentedDimension, source: String, step: Int) {
        guard x.storage.allSatisfy({ $0.isFinite }) else { return }
        if floors == nil {
            let k = x.rows
            let reference = dataset.heldOut.rows(0..<min(k, dataset.heldOut.rows))
            let a = dataset.draw(count: k, seed: 101)
            let b = dataset.draw(count: k, seed: 102)
            let h = MMD.bandwidths(for: reference)
            floors = (
                SlicedWasserstein.distance(a, b), MMD.squaredDistance(a, b, bandwidths: h), h,
                reference
            )
        }
        guard let floors else { return }
        let row = MetricRow(
            augmentedDimension: d, source: Self.sourceKind(source), step: step,
            swd: SlicedWasserstein.distance(x, floors.reference), swdFloor: floors.swd,
            mmdSquared: MMD.squaredDistance(x, floors.reference, bandwidths: floors.bandwidths),
            mmdSquaredFloor: floors.mmdSquared)
        snapshot.metrics.removeAll { $0.augmentedDimension == d && $0.source == row.source }
        snapshot.metrics.append(row)
        snapshot.metrics.sort { $0.augmentedDimension < $1.augmentedDimension }
    }
}
