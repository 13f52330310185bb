import Foundation

/// The reference work of the design's quality bars, measured on this machine.
public enum NetworkBenchmark {
    public struct Reference: Sendable {
        public var name: String
        public var network: MLPEDMConfig
        public var trainBatch: Int
        public var sampleBatch: Int

        public static let toy = Reference(name: "toy", network: .toy, trainBatch: 512, sampleBatch: 1000)
        public static let imageMLP = Reference(name: "image-mlp", network: .imageMLP, trainBatch: 128, sampleBatch: 256)
    }

    public struct Result: Sendable {
        public var reference: String
        public var threads: Int
        public var trainStepsPerSecond: Double
        public var sampleEvalsPerSecond: Double
        public var trainGFLOPS: Double
        public var sgemmGFLOPS: Double
        public var peakRSSMegabytes: Double

        public var dictionary: [String: Any] {
            ["config": reference, "threads": threads,
             "train_steps_per_s": trainStepsPerSecond, "sample_evals_per_s": sampleEvalsPerSecond,
             "gflops": trainGFLOPS, "sgemm_gflops": sgemmGFLOPS, "peak_rss_mb": peakRSSMegabytes]
        }

        public var text: String {
            """
            config            \(reference) (\(threads) threads)
            train (PFGM++)    \(String(format: "%.1f", trainStepsPerSecond)) steps/s (\(String(format: "%.2f", 1000 / trainStepsPerSecond)) ms/step, \(String(format: "%.1f", trainGFLOPS)) GFLOP/s)
            sample            \(String(format: "%.0f", sampleEvalsPerSecond)) denoiser evaluations/s
            sgemm 1024³       \(String(format: "%.1f", sgemmGFLOPS)) GFLOP/s (ceiling measured now)
            peak RSS          \(String(format: "%.1f", peakRSSMegabytes)) MiB
            """
        }
    }

    /// The reference work: full PFGM++ training steps (σ draw, kernel at D = 128, forward, loss, backward,
    /// Adam and EMA) through `Trainer`, and denoiser evaluations at one σ through `NetworkDenoiser`, the
    /// same code `pfgm train`, `pfgm sample` and the studio run.
    public static func run(_ reference: Reference, threads: Int, splitBatches: Bool = true,
                           rounds: Int = 1, windows: Int = 5, seconds: Double) -> Result {
        Compute.setThreads(threads, splitBatches: splitBatches)
        let trainer = makeTrainer(reference)
        trainer.trainStep()
        let trainRate = Stopwatch.medianRate(rounds: rounds, windows: windows, seconds: seconds) { trainer.trainStep() }

        let b = reference.sampleBatch, n = reference.network.dim
        let denoiser = trainer.emaDenoiser()
        var rng = RandomSource(seed: 3)
        let x = FloatBuffer(count: b * n), out = FloatBuffer(count: b * n)
        rng.fillNormal(x.buffer)
        let sample = { denoiser.denoise(x.pointer, rows: b, sigma: 1.5, into: out.pointer) }
        sample()
        let sampleRate = Stopwatch.medianRate(rounds: rounds, windows: windows, seconds: seconds, sample)
        let flopsPerStep = 3 * trainer.network.forwardFlopsPerExample * Double(reference.trainBatch)
        return Result(
            reference: reference.name, threads: threads,
            trainStepsPerSecond: trainRate, sampleEvalsPerSecond: sampleRate * Double(b),
            trainGFLOPS: trainRate * flopsPerStep / 1e9,
            sgemmGFLOPS: SgemmBenchmark.gflops(threads: threads, seconds: min(seconds, 1)),
            peakRSSMegabytes: Machine.peakResidentMegabytes)
    }

    /// A trainer at D = 128 on data of the reference's dimension (checkerboard for N = 2, uniform otherwise:
    /// the cost of a step does not depend on the values).
    static func makeTrainer(_ reference: Reference) -> Trainer {
        let net = reference.network
        var rng = RandomSource(seed: 2)
        let data = ToyData.draw("checkerboard", count: 4096, rng: &rng).flatMap { net.dim == 2 ? $0 : nil }
            ?? Matrix(rows: 1024, cols: net.dim, storage: (0..<(1024 * net.dim)).map { _ in Float(2 * rng.uniform() - 1) })
        var config = TrainingConfig(data: "bench", dim: net.dim, augmentedDimension: .finite(128), sigmaData: 0.5, steps: Int.max)
        config.width = net.width
        config.depth = net.depth
        config.embeddingChannels = net.embeddingChannels
        config.batch = reference.trainBatch
        do { return try Trainer(config: config, data: data) } catch { preconditionFailure("benchmark configuration rejected: \(error)") }
    }
}
