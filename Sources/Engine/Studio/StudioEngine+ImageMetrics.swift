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

public struct FrechetRow: Sendable, Equatable {
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

/// A batch of samples made a chunk at a time between training steps, from the weights of when it
/// began.
struct ImageBatch {
    let settings: StudioSettings
    /// Quantized once, over weights frozen when the batch began.
    let request: SamplingRequest
    let source: String
    let kind: SampleSource
    let step: Int
    var rng: RandomSource
    var samples: [Float] = []
    var rows = 0
}

/// Made on the preparing thread and handed to the engine once, which alone uses it from then on.
enum FrechetPreparation: @unchecked Sendable {
    case ready(ImageFrechet)
    case failed(String)
}

extension StudioEngine {
    public static let imageBatchCount = 250
    static let imageChunk = 25
    /// Training gets this many times the batch's sampling time, so the batch costs it ≈ 2%.
    static let imageBatchPace = 49.0

    var scoresFrechet: Bool {
        dataset.labels != nil && dataset.heldOutLabels != nil && dataset.imageSide != nil
    }

    /// The panel's first state, and the classifier prepared on a thread of its own (training it the
    /// first time takes a while; the studio stays live meanwhile).
    func startImageMetrics() {
        guard dataset.imageSide != nil else { return }
        snapshot.imageMetrics = ImageMetrics(
            metric: scoresFrechet ? .frechet : .pixels, count: Self.imageBatchCount)
        guard scoresFrechet else { return }
        snapshot.imageMetrics?.status = "loading the fd-fmnist classifier"
        let data = dataset
        Thread.detachNewThread { [self] in
            let prepared: FrechetPreparation
            do {
                prepared = .ready(
                    try ImageFrechet.prepare(for: data, cacheDirectory: CacheDirectory.path) {
                        line in
                        let text = line.trimmingCharacters(in: .whitespaces)
                        let epoch = text.split(separator: " ").prefix(2).joined(separator: " ")
                        let status =
                            text.hasPrefix("epoch")
                            ? "classifier \(epoch)" : "training the classifier (once)"
                        self.frechetStatus.withLock { $0 = status }
                    })
            } catch { prepared = .failed((error as? DataError)?.description ?? "\(error)") }
            self.frechetInbox.withLock { $0 = prepared }
        }
    }

    /// Takes the prepared classifier when it has arrived; true when it is ready.
    func frechetReady() -> Bool {
        if frechet != nil { return true }
        guard var metrics = snapshot.imageMetrics, metrics.metric == .frechet else { return false }
        let arrived = frechetInbox.withLock { value -> FrechetPreparation? in
            let taken = value
            value = nil
            return taken
        }
        switch arrived {
        case .ready(let prepared)?:
            frechet = prepared
            metrics.floor = prepared.floor(count: Self.imageBatchCount)
            metrics.ceiling = prepared.ceiling(count: Self.imageBatchCount)
            metrics.status = ""
        case .failed(let reason)?:
            metrics.metric = .pixels
            metrics.status = "fd-fmnist unavailable (\(reason)); pixel SWD instead"
        case nil:
            let line = frechetStatus.withLock { $0 }
            if !line.isEmpty { metrics.status = line }
        }
        snapshot.imageMetrics = metrics
        return frechet != nil
    }

    /// After a preview: a new batch for what it showed, unless one for the same settings and model
    /// is under way.
    func startImageBatch(_ shown: PreviewSource) {
        guard snapshot.imageMetrics != nil else { return }
        if let batch = imageBatch, batch.settings == settings, batch.source == shown.label {
            return
        }
        var request = shown.request
        if let model = request.denoiser as? NetworkDenoiser {
            request.denoiser = Self.frozen(model)
        }
        imageBatch = ImageBatch(
            settings: settings, request: request.quantized(), source: shown.label, kind: shown.kind,
            step: shown.step, rng: RandomSource(seed: settings.seed, stream: 0x1FD))
        nextImageChunk = Stopwatch.now()
    }

    var imageBatchDue: Bool {
        guard imageBatch != nil, Stopwatch.now() >= nextImageChunk else { return false }
        return snapshot.imageMetrics?.metric != .frechet || frechetReady()
    }

    /// Samples the batch's next chunk (given up when a command arrives), and scores the batch once
    /// whole.
    func sampleImageChunk() {
        guard var batch = imageBatch else { return }
        let start = Stopwatch.now()
        let s = batch.settings
        guard
            let x = batch.request.run(
                count: Self.imageChunk, rng: &batch.rng, shouldStop: { self.hasPendingCommands })
        else { return }
        batch.samples += x.storage
        batch.rows += x.rows
        imageBatch = batch
        nextImageChunk =
            Stopwatch.now()
            + (pacesBackgroundWork ? Self.imageBatchPace * (Stopwatch.now() - start) : 0)
        snapshot.imageMetrics?.status =
            "sampling \(batch.rows)/\(Self.imageBatchCount) at D=\(s.augmentedDimension)"
        if batch.rows >= Self.imageBatchCount { score(batch) }
        publish()
    }

    private func score(_ batch: ImageBatch) {
        imageBatch = nil
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
        snapshot.imageMetrics?.rows.removeAll {
            $0.augmentedDimension == d && $0.source == row.source
        }
        snapshot.imageMetrics?.rows.append(row)
        snapshot.imageMetrics?.rows.sort { $0.augmentedDimension < $1.augmentedDimension }
    }
}
