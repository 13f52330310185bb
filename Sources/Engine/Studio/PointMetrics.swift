/// The preview's distances for points (2-D and projected data): SWD and MMD² against held-out
/// data, each beside its floor (two draws of the data itself), which is measured once, at the first
/// preview's sample count.
public struct PointMetrics: Sendable {
    struct Floors: Sendable {
        let swd: Double, mmdSquared: Double, bandwidths: [Double], reference: Matrix
        /// Memorisation is measured against this many training points (the nearest-point search
        /// runs at every preview).
        let training: Matrix, memorisation: Memorisation.Reference
    }

    static let trainingRows = 10_000

    let dataset: Dataset
    private(set) var floors: Floors?

    public init(dataset: Dataset) { self.dataset = dataset }

    /// The row for samples `x` drawn at D by `source` (a model at `step`); nil when a sample is
    /// not finite.
    public mutating func row(
        _ x: Matrix, d: AugmentedDimension, source: SampleSource, step: Int
    ) -> MetricRow? {
        guard x.storage.allSatisfy({ $0.isFinite }) else { return nil }
        let floors = self.floors ?? Self.floors(of: dataset, count: x.rows)
        self.floors = floors
        var row = MetricRow(
            augmentedDimension: d, source: source, step: step,
            swd: SlicedWasserstein.distance(x, floors.reference), swdFloor: floors.swd,
            mmdSquared: MMD.squaredDistance(x, floors.reference, bandwidths: floors.bandwidths),
            mmdSquaredFloor: floors.mmdSquared)
        row.memorisation = Memorisation.share(
            of: x, near: floors.training, below: floors.memorisation.threshold)
        row.memorisationFloor = floors.memorisation.floor
        return row
    }

    static func floors(of dataset: Dataset, count k: Int) -> Floors {
        let reference = dataset.heldOut.rows(0..<min(k, dataset.heldOut.rows))
        let a = dataset.draw(count: k, seed: 101)
        let b = dataset.draw(count: k, seed: 102)
        let h = MMD.bandwidths(for: reference)
        let training = dataset.train.rows(0..<min(trainingRows, dataset.train.rows))
        return Floors(
            swd: SlicedWasserstein.distance(a, b),
            mmdSquared: MMD.squaredDistance(a, b, bandwidths: h), bandwidths: h,
            reference: reference, training: training,
            memorisation: Memorisation.reference(training: training, heldOut: dataset.heldOut))
    }
}

/// The exact denoiser of (the first 1,000 points or 300 images of) the training set, kept for the
/// last D asked: the preview and the probes ask at the shown D again and again.
public struct OracleCache {
    let points: Matrix
    private(set) var cached: (d: AugmentedDimension, denoiser: OracleDenoiser)?

    public init(dataset: Dataset) {
        let k = dataset.imageShape == nil ? 1000 : 300
        points = dataset.train.rows(0..<min(k, dataset.train.rows))
    }

    public mutating func denoiser(at d: AugmentedDimension) -> OracleDenoiser {
        if let cached, cached.d == d { return cached.denoiser }
        let denoiser = OracleDenoiser(points: points, augmentedDimension: d)
        cached = (d, denoiser)
        return denoiser
    }

    /// The D whose denoiser is kept.
    public var keptDimension: AugmentedDimension? { cached?.d }
}
