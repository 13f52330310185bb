import Foundation
import Synchronization

/// The image metrics panel: fd-fmnist for the Fashion-MNIST sets, the SWD of pixels for other
/// images.
public struct ImageMetrics: Sendable, Equatable {
    /// fd-fmnist, or pixels (SWD and MMD² rows in `Snapshot.metrics`).
    public var metric: StudioMetric
    /// Samples per score, and the floor (as many training images) and ceiling (as many noise
    /// images).
    public var count: Int
    public var rows: [FrechetRow] = []
    public var floor: Double?
    public var ceiling: Double?
    /// What is under way: preparing the classifier, or the batch being sampled.
    public var status = ""

    public init(metric: StudioMetric, count: Int) {
        self.metric = metric
        self.count = count
    }
}

public struct FrechetRow: Sendable, Equatable, ScoredRow {
    public var augmentedDimension: AugmentedDimension
    public var source: SampleSource
    public var step: Int
    public var value: Double

    public init(
        augmentedDimension: AugmentedDimension, source: SampleSource, step: Int, value: Double
    ) {
        (self.augmentedDimension, self.source, self.step, self.value) = (
            augmentedDimension, source, step, value
        )
    }
}

extension StudioEngine {
    public static let imageBatchCount = ImageBatchQueue.count

    var scoresFrechet: Bool {
        dataset.labels != nil && dataset.heldOutLabels != nil && dataset.imageSide != nil
    }

    /// The panel's first state, and the classifier's preparation started.
    func startImageMetrics() {
        guard dataset.imageSide != nil else { return }
        snapshot.imageMetrics = ImageMetrics(
            metric: scoresFrechet ? .frechet : .pixels, count: Self.imageBatchCount)
        guard scoresFrechet else { return }
        snapshot.imageMetrics?.status = "loading the fd-fmnist classifier"
        frechetLoader = FrechetLoader(for: dataset)
    }

    /// Takes the prepared classifier when it has arrived; true when it is ready.
    func frechetReady() -> Bool {
        if frechet != nil { return true }
        guard var metrics = snapshot.imageMetrics, metrics.metric == .frechet else { return false }
        switch frechetLoader?.take() {
        case .ready(let prepared)?:
            frechet = prepared
            metrics.floor = prepared.floor(count: Self.imageBatchCount)
            metrics.ceiling = prepared.ceiling(count: Self.imageBatchCount)
            metrics.status = ""
        case .failed(let reason)?:
            metrics.metric = .pixels
            metrics.status = "fd-fmnist unavailable (\(reason)); pixel SWD instead"
        case nil:
            let line = frechetLoader?.progress ?? ""
            if !line.isEmpty { metrics.status = line }
        }
        snapshot.imageMetrics = metrics
        return frechet != nil
    }

    /// After a preview: a new batch for what it showed, unless one for the same settings and model
    /// is under way. A model is known by its run, not by its label: the label holds the step, and
    /// a training model's previews come faster than its batches.
    func startImageBatch(_ shown: PreviewSource) {
        guard snapshot.imageMetrics != nil else { return }
        imageBatches.begin(
            shown.request, source: shown.run ?? shown.label, kind: shown.kind, step: shown.step,
            settings: settings, now: Stopwatch.now())
    }

    var imageBatchDue: Bool {
        guard imageBatches.isDue(now: Stopwatch.now()) else { return false }
        return snapshot.imageMetrics?.metric != .frechet || frechetReady()
    }

    /// Samples the batch's next chunk (given up when a command arrives), and scores the batch once
    /// whole.
    func sampleImageChunk() {
        let whole = imageBatches.sampleChunk(
            now: Stopwatch.now, paced: pacesBackgroundWork,
            shouldStop: { self.hasPendingCommands })
        if let rows = imageBatches.rows, let d = imageBatches.batch?.settings.augmentedDimension {
            snapshot.imageMetrics?.status = "sampling \(rows)/\(Self.imageBatchCount) at D=\(d)"
        }
        if let whole { score(whole) }
        publish()
    }

    private func score(_ batch: ImageBatch) {
        snapshot.imageMetrics?.status = ""
        let samples = Matrix(rows: batch.rows, cols: dataset.dim, storage: batch.samples)
        let d = batch.settings.augmentedDimension
        guard let frechet else {
            return measure(samples, d: d, source: batch.kind, step: batch.step)
        }
        guard let value = frechet.distance(samples), value.isFinite else { return }
        let row = FrechetRow(
            augmentedDimension: d, source: batch.kind, step: batch.step,
            value: value)
        snapshot.imageMetrics?.rows.replace(with: row)
    }
}
