import Foundation
import Synchronization

/// A batch of samples made a chunk at a time between training steps, from the weights of when it
/// began.
public struct ImageBatch {
    let settings: StudioSettings
    /// Quantized once, over weights frozen when the batch began.
    let request: SamplingRequest
    let source: String
    let kind: SampleSource
    let step: Int
    var rng: RandomSource
    public internal(set) var samples: [Float] = []
    public internal(set) var rows = 0
}

/// The image metrics' background batches, apart from the engine: the batch under way, when its
/// next chunk is due, and the chunks themselves. The engine scores a batch once it is whole.
public struct ImageBatchQueue {
    /// Samples per batch, and per chunk between training steps.
    public static let count = 250
    public static let chunk = 25
    /// Training gets this many times the batch's sampling time, so the batch costs it ≈ 2%.
    public static let pace = 49.0

    private(set) var batch: ImageBatch?
    private var due = 0.0

    public init() {}

    /// The rows sampled so far of the batch under way (nil: none under way).
    public var rows: Int? { batch?.rows }

    /// A new batch for what a preview showed (its request, source and step), unless one for the
    /// same settings and source (the model, whatever its step) is under way. The request's network
    /// is frozen and quantized here, so training on does not move what is being scored.
    public mutating func begin(
        _ request: SamplingRequest, source: String, kind: SampleSource, step: Int,
        settings: StudioSettings, now: Double
    ) {
        if let batch, batch.settings == settings, batch.source == source { return }
        var frozen = request
        if let model = request.denoiser as? NetworkDenoiser { frozen.denoiser = model.frozen() }
        batch = ImageBatch(
            settings: settings, request: frozen.quantized(), source: source, kind: kind,
            step: step, rng: RandomSource(seed: settings.seed, stream: 0x1FD))
        due = now
    }

    public func isDue(now: Double) -> Bool { batch != nil && now >= due }

    /// Samples the next chunk; returns the whole batch's samples (and starts none after it). Nil
    /// while it grows, or when `shouldStop` cut the chunk short (it is sampled again).
    public mutating func sampleChunk(
        now: () -> Double, paced: Bool, shouldStop: @escaping () -> Bool
    ) -> ImageBatch? {
        guard var next = batch else { return nil }
        let start = now()
        guard
            let x = next.request.run(count: Self.chunk, rng: &next.rng, shouldStop: shouldStop)
        else { return nil }
        next.samples += x.storage
        next.rows += x.rows
        let end = now()
        due = end + (paced ? Self.pace * (end - start) : 0)
        guard next.rows >= Self.count else {
            batch = next
            return nil
        }
        batch = nil
        return next
    }
}

/// Made on the preparing thread and handed to the engine once, which alone uses it from then on.
enum FrechetPreparation: @unchecked Sendable {
    case ready(ImageFrechet)
    case failed(String)
}

/// The fd-fmnist classifier, prepared on a thread of its own (training it the first time takes a
/// while; the studio stays live meanwhile): its progress line, then the classifier, taken once.
public final class FrechetLoader: Sendable {
    private let inbox = Mutex<FrechetPreparation?>(nil)
    private let status = Mutex("")
    private let stopping = Atomic(false)
    /// Entered until the preparing thread ends.
    private let running = DispatchGroup()

    public init(for data: Dataset, cacheDirectory: String? = CacheDirectory.path) {
        running.enter()
        Thread.detachNewThread { [self] in
            defer { running.leave() }
            let prepared: FrechetPreparation
            do {
                prepared = .ready(
                    try ImageFrechet.prepare(
                        for: data, cacheDirectory: cacheDirectory,
                        log: { self.status.withLock { [line = $0] in $0 = Self.progress(line) } },
                        shouldStop: { self.stopping.load(ordering: .relaxed) }))
            } catch { prepared = .failed((error as? DataError)?.description ?? "\(error)") }
            self.inbox.withLock { $0 = prepared }
        }
    }

    /// Stops training the classifier at its next batch and waits for the thread to end (loading a
    /// cached one ends within seconds): a process that exits under it runs its libraries'
    /// destructors beneath a matrix product, and crashes.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        running.wait()
    }

    /// Whether the preparing thread has ended.
    public var hasEnded: Bool { running.wait(timeout: .now()) == .success }

    /// What the classifier's training says, as the panel shows it.
    static func progress(_ line: String) -> String {
        let text = line.trimmingCharacters(in: .whitespaces)
        let epoch = text.split(separator: " ").prefix(2).joined(separator: " ")
        return text.hasPrefix("epoch") ? "classifier \(epoch)" : "training the classifier (once)"
    }

    /// The classifier or why there is none, once it has arrived (nil before, and after).
    func take() -> FrechetPreparation? {
        inbox.withLock { value in
            let taken = value
            value = nil
            return taken
        }
    }

    /// The latest progress line ("" before the first).
    public var progress: String { status.withLock { $0 } }
}
