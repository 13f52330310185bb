import Foundation

/// The reference work of the design's quality bars, measured on this machine.
public enum NetworkBenchmark {
    public struct Reference: Sendable {
        public var name: String
        public var dim: Int
        /// "mlp-edm", or "unet" (tools/torch's U-Net, square one-channel images of side √dim).
        public var architecture: NetworkArchitecture
        public var width: Int
        public var depth: Int
        public var trainBatch: Int
        public var sampleBatch: Int
        /// Also measure training on the stable target over this many points (nil: not).
        public var referenceBatch: Int?

        public static let toy = Reference(
            name: "toy", dim: 2, architecture: .mlpEDM, width: 256, depth: 4,
            trainBatch: 512, sampleBatch: 1000)
        public static let imageMLP = Reference(
            name: "image-mlp", dim: 784, architecture: .mlpEDM, width: 1024, depth: 4,
            trainBatch: 128, sampleBatch: 256)
        /// The U-Net of the fmnist14 results (W = 32, L = 2) and the same at 28×28, at the batches
        /// of the speed issue.
        public static let unet14 = Reference(
            name: "unet14", dim: 196, architecture: .unet, width: 32, depth: 2,
            trainBatch: 64, sampleBatch: 256)
        public static let unet28 = Reference(
            name: "unet28", dim: 784, architecture: .unet, width: 32, depth: 2,
            trainBatch: 32, sampleBatch: 64)
        public static let all = [toy, imageMLP, unet14, unet28]
    }

    public struct Result: Sendable {
        public var reference: String
        public var threads: Int
        public var trainStepsPerSecond: Double
        /// Steps on the stable target, measured in the same run (nil: not asked for).
        public var stableTarget: (referenceBatch: Int, stepsPerSecond: Double)?
        public var sampleEvalsPerSecond: Double
        public var trainGFLOPS: Double
        public var sgemmGFLOPS: Double
        /// The multiply-add peak of the same threads, measured in the same run.
        public var peakGFLOPS: Double
        public var peakRSSMegabytes: Double

        public var dictionary: [String: Any] {
            var found: [String: Any] = [
                "config": reference, "threads": threads, "kernels": CPU.name,
                "cpu": Machine.cpuModel,
                "blas_core": Machine.blasCore,
                "train_steps_per_s": trainStepsPerSecond,
                "sample_evals_per_s": sampleEvalsPerSecond,
                "gflops": trainGFLOPS, "sgemm_gflops": sgemmGFLOPS, "fma_peak_gflops": peakGFLOPS,
                "peak_rss_mb": peakRSSMegabytes,
            ]
            if let stableTarget {
                found["reference_batch"] = stableTarget.referenceBatch
                found["stable_target_steps_per_s"] = stableTarget.stepsPerSecond
            }
            return found
        }

        public var text: String {
            func f(_ format: String, _ value: Double) -> String { String(format: format, value) }
            let milliseconds = f("%.2f", 1000 / trainStepsPerSecond)
            let train =
                "\(f("%.1f", trainStepsPerSecond)) steps/s "
                + "(\(milliseconds) ms/step, \(f("%.1f", trainGFLOPS)) GFLOP/s)"
            let share = f("%.0f", 100 * trainGFLOPS / peakGFLOPS)
            let machine = "\(threads) threads; kernels \(CPU.name), \(Machine.cpuModel)"
            let stable = stableTarget.map {
                let ratio = f("%.2f", trainStepsPerSecond / $0.stepsPerSecond)
                return "\nstable target     \(f("%.1f", $0.stepsPerSecond)) steps/s over "
                    + "\($0.referenceBatch) points (\(ratio)× the time of a step)"
            }
            return """
                config            \(reference) (\(machine))
                train (PFGM++)    \(train)\(stable ?? "")
                sample            \(f("%.0f", sampleEvalsPerSecond)) denoiser evaluations/s
                sgemm 1024³       \(f("%.1f", sgemmGFLOPS)) GFLOP/s (ceiling measured now)
                multiply-add peak \(f("%.1f", peakGFLOPS)) GFLOP/s (training at \(share)%)
                peak RSS          \(f("%.1f", peakRSSMegabytes)) MiB
                """
        }
    }

    /// The reference work: full PFGM++ training steps (σ draw, kernel at D = 128, forward, loss,
    /// backward, Adam and EMA) through `Trainer`, and denoiser evaluations at one σ through
    /// `NetworkDenoiser`, the same code `pfgm train`, `pfgm sample` and the studio run.
    public static func run(
        _ reference: Reference, threads: Int, splitBatches: Bool = true,
        rounds: Int = 1, windows: Int = 5, seconds: Double
    ) throws(DataError) -> Result {
        Compute.setThreads(threads, splitBatches: splitBatches)
        let trainer = try makeTrainer(reference)
        trainer.trainStep()
        let trainRate = Stopwatch.medianRate(rounds: rounds, windows: windows, seconds: seconds) {
            trainer.trainStep()
        }
        let stable = try reference.referenceBatch.map { r throws(DataError) in
            let stableTrainer = try makeTrainer(reference, referenceBatch: r)
            stableTrainer.trainStep()
            let rate = Stopwatch.medianRate(rounds: rounds, windows: windows, seconds: seconds) {
                stableTrainer.trainStep()
            }
            return (referenceBatch: r, stepsPerSecond: rate)
        }

        let b = reference.sampleBatch
        let n = reference.dim
        let denoiser = trainer.emaDenoiser()
        var rng = RandomSource(seed: 3)
        let x = FloatBuffer(count: b * n)
        let out = FloatBuffer(count: b * n)
        rng.fillNormal(x.buffer)
        let sample = { denoiser.denoise(x.pointer, rows: b, sigma: 1.5, into: out.pointer) }
        sample()
        let sampleRate = Stopwatch.medianRate(
            rounds: rounds, windows: windows, seconds: seconds, sample)
        let flopsPerStep = 3 * trainer.network.forwardFlopsPerExample * Double(reference.trainBatch)
        return Result(
            reference: reference.name, threads: threads,
            trainStepsPerSecond: trainRate, stableTarget: stable,
            sampleEvalsPerSecond: sampleRate * Double(b),
            trainGFLOPS: trainRate * flopsPerStep / 1e9,
            sgemmGFLOPS: SgemmBenchmark.gflops(threads: threads, seconds: min(seconds, 1)),
            peakGFLOPS: PeakBenchmark.gflops(threads: threads),
            peakRSSMegabytes: Machine.peakResidentMegabytes)
    }

    /// A trainer at D = 128 on data of the reference's dimension (checkerboard for N = 2, uniform
    /// otherwise: the network's cost does not depend on the values; the stable target's skips
    /// weights below e⁻⁴⁰, which depends on them a little).
    static func makeTrainer(_ reference: Reference, referenceBatch: Int? = nil) throws(DataError)
        -> Trainer
    {
        let n = reference.dim
        var rng = RandomSource(seed: 2)
        let data =
            ToyData.draw("checkerboard", count: 4096, rng: &rng).flatMap { n == 2 ? $0 : nil }
            ?? Matrix(
                rows: 1024, cols: n,
                storage: (0..<(1024 * n)).map { _ in Float(2 * rng.uniform() - 1) })
        var config = TrainingConfig(
            data: "bench", dim: n, augmentedDimension: .finite(128), sigmaData: 0.5, steps: Int.max)
        config.architecture = reference.architecture
        config.width = reference.width
        config.depth = reference.depth
        config.batch = reference.trainBatch
        config.referenceBatch = referenceBatch
        if let problem = config.problem { throw DataError("\(reference.name): \(problem)") }
        return try Trainer(config: config, data: data)
    }
}
