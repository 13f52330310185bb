import Foundation

/// The coupled view (`c`): the slider's marks sampled from the same noise, one D at a time between
/// training steps, each by the model that answers there (as the preview would).
extension StudioEngine {
    /// Points per D (a density panel each), or images per D (a row each).
    public static let coupledPoints = 300
    public static let coupledImages = 8

    func setCoupled(open: Bool) {
        if open { coupled.open() } else { coupled.close() }
        snapshot.coupled = coupled.grid
    }

    /// Whether a D of the coupled view is to be sampled now (a new grid starts when the settings
    /// or the models moved, see `CoupledQueue`).
    var coupledDue: Bool {
        guard coupled.isOpen else { return false }
        if coupled.refresh(
            settings: settings, steps: modelSteps, dimensions: CoupledQueue.marks,
            now: Stopwatch.now())
        {
            snapshot.coupled = coupled.grid
        }
        return coupled.next != nil
    }

    /// The steps of every model that could answer (the bank's in D order, the followed runs', the
    /// one network's), to see when new weights came.
    var modelSteps: [Int] {
        bank.keys.sorted().map { bank[$0]?.trainer.step ?? 0 }
            + (follow?.runs.map(\.checkpointStep) ?? []) + [oneNetwork?.trainer.step ?? -1]
    }

    /// Samples the next D of the grid from the coupled draws; a sampling cut short by a command is
    /// done again.
    func sampleCoupledPanel() {
        guard let d = coupled.next else { return }
        let source = previewSource(d)
        guard let panel = coupledPanel(d, source, shouldStop: { self.hasPendingCommands }) else {
            return
        }
        coupled.record(panel, now: Stopwatch.now())
        snapshot.coupled = coupled.grid
        publish()
    }

    /// D's panel from the coupled draws of the seed, by `source`; nil when `shouldStop` cut it
    /// short.
    func coupledPanel(
        _ d: AugmentedDimension, _ source: PreviewSource, shouldStop: (() -> Bool)?
    ) -> CoupledPanel? {
        let count = snapshot.kind.isImage ? Self.coupledImages : Self.coupledPoints
        let noise = CoupledNoise(count: count, dim: dataset.dim, seed: settings.seed)
        let latents = noise.latents(
            at: d, sigma: settings.sigmaMax, truncation: source.request.truncation)
        var rng = RandomSource(seed: settings.seed)
        guard
            let x = source.request.run(
                count: count, latents: latents, rng: &rng, shouldStop: shouldStop)
        else { return nil }
        var panel = CoupledPanel(
            augmentedDimension: d, label: Self.coupledLabel(source),
            points: Self.screenPoints(x, projection))
        panel.step = source.step
        return panel
    }

    /// What drew a panel in a few words (its D is in the caption): "one network, step 900",
    /// "model, step 900", "followed, step 900" or "oracle".
    static func coupledLabel(_ source: PreviewSource) -> String {
        switch source.kind {
        case .oracle: "oracle"
        case .oneNetwork: "one network, step \(source.step)"
        case .model: "\(source.slot == nil ? "followed" : "model"), step \(source.step)"
        }
    }
}
