import ArgumentParser
import Engine
import Foundation
import TUI

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure sgemm and the denoiser networks (MLP-EDM, U-Net) on this machine.",
        discussion: """
            Train and sample figures are the median over --rounds of the median of --windows \
            windows of --seconds each; the sgemm ceiling is the best of three. The machine is \
            shared: compare ratios within one run (bench/compare.sh runs this beside \
            bench/torch_bench.py).
            """
    )

    enum Config: String, ExpressibleByArgument, CaseIterable {
        case toy
        case imageMLP = "image-mlp"
        case unet14, unet28

        var reference: NetworkBenchmark.Reference {
            switch self {
            case .toy: .toy
            case .imageMLP: .imageMLP
            case .unet14: .unet14
            case .unet28: .unet28
            }
        }
    }

    @Option(
        help: """
            Reference configuration: toy (MLP N=2, W=256, L=4, batch 512), image-mlp (MLP N=784, \
            W=1024, L=4, batch 128), unet14 (U-Net 14×14, W=32, L=2, batch 64) or unet28 (U-Net \
            28×28, W=32, L=2, batch 32).
            """)
    var config: Config = .toy

    @Option(help: "Seconds per measurement window.")
    var seconds: Double = 1

    @Option(help: "Measurement rounds (the figure is their median).")
    var rounds: Int = 1

    @Option(help: "Windows per round (each round reports their median).")
    var windows: Int = 5

    @OptionGroup var threading: ThreadOptions

    @Option(help: "Train batch instead of the configuration's (for scaling curves).")
    var batch: Int?

    @Option(help: "Network width instead of the configuration's (for scaling curves).")
    var width: Int?

    @Option(
        name: .customLong("reference-batch"),
        help: ArgumentHelp(
            """
            Also time training steps on the stable target over R points (as `train \
            --reference-batch R`), beside the plain ones in the same run.
            """, valueName: "R"))
    var referenceBatch: Int?

    @Option(
        help:
            """
            How threads share the work: batch (each thread takes rows, single-threaded sgemm) or \
            blas (OpenBLAS threads every sgemm).
            """
    )
    var split: Split = .batch

    enum Split: String, ExpressibleByArgument, CaseIterable { case batch, blas }

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Time the studio's frame work (render and diff) at 200×60 instead.")
    var frames = false

    func validate() throws {
        guard seconds > 0, seconds.isFinite else {
            throw ValidationError("--seconds must be a positive number")
        }
        guard (1...100).contains(rounds), (1...100).contains(windows) else {
            throw ValidationError("--rounds and --windows must be between 1 and 100")
        }
        if let batch, !(1...65_536).contains(batch) {
            throw ValidationError("--batch must be between 1 and 65536")
        }
        if let width, !(1...16_384).contains(width) {
            throw ValidationError("--width must be between 1 and 16384")
        }
        if referenceBatch == 0 {
            let largest = TrainingConfig.largestReferenceBatch
            throw ValidationError("--reference-batch must be between the batch and \(largest)")
        }
        let reference = config.reference
        if let problem = TrainingConfig.referenceBatchProblem(
            referenceBatch, batch: batch ?? reference.trainBatch, dim: reference.dim)
        {
            throw ValidationError(problem)
        }
    }

    func run() throws {
        if frames { return benchFrames() }
        var reference = config.reference
        if let batch { reference.trainBatch = batch }
        if let width { reference.width = width }
        reference.referenceBatch = referenceBatch
        let result = try attempt {
            try NetworkBenchmark.run(
                reference, threads: threading.count, splitBatches: split == .batch,
                rounds: rounds, windows: windows, seconds: seconds)
        }
        if json {
            let data = try JSONSerialization.data(
                withJSONObject: result.dictionary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(result.text)
        }
    }
}

extension Bench {
    func benchFrames() {
        _ = FrameBenchmark.run(width: 200, height: 60, frames: 20)
        let times = FrameBenchmark.run(width: 200, height: 60, frames: 600).sorted()
        let median = times[times.count / 2] * 1000
        let p99 = times[Int(Double(times.count) * 0.99)] * 1000
        let mean = times.reduce(0, +) / Double(times.count) * 1000
        if json {
            print(
                """
                {\"frame_ms_median\": \(median), \"frame_ms_p99\": \(p99), \"frame_ms_mean\": \
                \(mean), \"frames\": \(times.count)}
                """
            )
        } else {
            print(
                String(
                    format:
                        """
                        studio frame at 200×60 (render + diff), %d frames: median %.3f ms, p99 \
                        %.3f ms, mean %.3f ms
                        """,
                    times.count, median, p99, mean))
        }
    }
}
