import ArgumentParser
import Engine
import Foundation

struct Prior: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Draw from the perturbation kernel at σ around the origin (the prior at σ = σ_max).")

    @Option(help: "Data dimension N.")
    var dim: Int

    @Option(
        name: .customLong("aug-dim"), help: "Augmented dimension D: a number ≥ 0.1 or inf.",
        transform: parseAugmentedDimension)
    var augDim: AugmentedDimension

    @Option(help: "Noise level σ (r = σ√D).")
    var sigma: Double

    @Option(help: "Number of draws.")
    var count: Int

    @Option(
        name: .customLong("kernel-quantile"),
        help: "Draw radii only up to this quantile of the kernel (1: the whole kernel).")
    var kernelQuantile: Double = 1

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    @OptionGroup var output: SampleOutputs

    func validate() throws {
        guard (1...1_000_000).contains(dim) else {
            throw ValidationError("--dim must be between 1 and 1000000")
        }
        guard sigma > 0, sigma <= NoiseSchedule.largestSigma else {
            throw ValidationError(
                "--sigma must be a positive number up to \(NoiseSchedule.largestSigma)")
        }
        guard (1...Limits.samples).contains(count) else {
            throw ValidationError("--count must be between 1 and \(Limits.samples)")
        }
        guard kernelQuantile >= 0.5 && kernelQuantile <= 1 else {
            throw ValidationError("--kernel-quantile must be in [0.5, 1]")
        }
    }

    func run() throws {
        var rng = RandomSource(seed: seed)
        let truncation = KernelTruncation.make(
            quantile: kernelQuantile, dim: dim, augmentedDimension: augDim)
        let outputs = OutputSet()
        let first = try streamRows(outputs, to: output.out, total: count, dim: dim) { _, rows in
            Perturbation.prior(
                count: rows, dim: dim, augmentedDimension: augDim, sigma: sigma,
                truncation: truncation,
                rng: &rng)
        }
        if let png = output.png, let first {
            try addPicture(outputs, of: first, image: nil, to: png)
        }
        try attempt { try outputs.commit() }
    }
}
