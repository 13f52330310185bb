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
            config            \(reference) (\(threads) BLAS threads)
            train (network)   \(String(format: "%.1f", trainStepsPerSecond)) steps/s (\(String(format: "%.2f", 1000 / trainStepsPerSecond)) ms/step, \(String(format: "%.1f", trainGFLOPS)) GFLOP/s)
            sample            \(String(format: "%.0f", sampleEvalsPerSecond)) denoiser evaluations/s
            sgemm 1024³       \(String(format: "%.1f", sgemmGFLOPS)) GFLOP/s (ceiling measured now)
            peak RSS          \(String(format: "%.1f", peakRSSMegabytes)) MiB
            """
        }
    }

    /// One training step of the network on fixed data: forward, a squared-error gradient, backward, Adam, EMA.
    /// (The PFGM++ kernel draw and preconditioning are not part of this figure.)
    public static func run(_ reference: Reference, threads: Int, seconds: Double) -> Result {
        BLAS.setThreads(threads)
        let net = MLPEDM(config: reference.network, seed: 0)
        let adam = Adam(parameterCount: net.parameters.count)
        let ema = ExponentialMovingAverage(of: net.parameters)
        var rng = RandomSource(seed: 1)
        let n = reference.network.dim
        let step = RegressionStep(network: net, batch: reference.trainBatch, rng: &rng)
        let train: () -> Void = {
            step.run(network: net)
            adam.update(net.parameters)
            ema.update(from: net.parameters)
        }
        train()
        let trainRate = Stopwatch.bestRate(windows: 3, seconds: seconds, train)

        let b = reference.sampleBatch
        let x = FloatBuffer(count: b * n), c = FloatBuffer(count: b), out = FloatBuffer(count: b * n)
        rng.fillNormal(x.buffer)
        rng.fillNormal(c.buffer)
        let sample = { net.forward(x.pointer, cNoise: c.pointer, rows: b, into: out.pointer) }
        sample()
        let sampleRate = Stopwatch.bestRate(windows: 3, seconds: seconds, sample)
        let flopsPerStep = 3 * net.forwardFlopsPerExample * Double(reference.trainBatch)
        return Result(
            reference: reference.name, threads: threads,
            trainStepsPerSecond: trainRate, sampleEvalsPerSecond: sampleRate * Double(b),
            trainGFLOPS: trainRate * flopsPerStep / 1e9,
            sgemmGFLOPS: SgemmBenchmark.gflops(threads: threads, seconds: min(seconds, 1)),
            peakRSSMegabytes: Machine.peakResidentMegabytes)
    }
}

/// A plain regression step on fixed random data: loss = mean ‖F(x, c) − y‖², gradients set.
public final class RegressionStep {
    let batch: Int
    let x: FloatBuffer, c: FloatBuffer, y: FloatBuffer, out: FloatBuffer, grad: FloatBuffer

    public init(network: MLPEDM, batch: Int, rng: inout RandomSource) {
        let n = network.config.dim
        self.batch = batch
        x = FloatBuffer(count: batch * n)
        c = FloatBuffer(count: batch)
        y = FloatBuffer(count: batch * n)
        out = FloatBuffer(count: batch * n)
        grad = FloatBuffer(count: batch * n)
        rng.fillNormal(x.buffer)
        rng.fillNormal(c.buffer)
        rng.fillNormal(y.buffer)
    }

    /// Forward and backward once; returns the loss before the step.
    @discardableResult
    public func run(network: MLPEDM) -> Float {
        let count = batch * network.config.dim
        network.forward(x.pointer, cNoise: c.pointer, rows: batch, into: out.pointer)
        var loss: Float = 0
        let scale = 2 / Float(batch)
        for i in 0..<count {
            let d = out[i] - y[i]
            loss += d * d
            grad[i] = scale * d
        }
        network.backward(gradOut: grad.pointer)
        return loss / Float(batch)
    }
}
