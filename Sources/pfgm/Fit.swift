import ArgumentParser
import Engine
import Foundation

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How close a trained denoiser is to the exact posterior mean, per noise level.",
        discussion: """
        Perturbs training points with the run's kernel at each σ (the whole kernel, untruncated) and compares \
        D_θ(x, σ) with the oracle's exact E[y | x] over the run's training points: e = ‖D_θ − D*‖² per point. \
        Prints the median, 90th percentile and mean of e, the share of points beyond 10σ from their clean point \
        and the median e over those. With --json, one JSON object per σ.
        """
    )

    @Option(help: "Run directory of a trained model.")
    var ckpt: String

    @Option(help: "Where the run's data is now, when it moved.")
    var data: String?

    @Option(help: "Comma-separated noise levels σ.")
    var sigmas: String = PosteriorFit.defaultSigmas.map { jsonNumber($0) }.joined(separator: ",")

    @Option(help: "Perturbed points per σ.")
    var count: Int = 2000

    @Option(help: "Seed for the points and their perturbations.")
    var seed: UInt64 = 7

    @Flag(help: "One JSON object per σ instead of a table.")
    var json = false

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be between 1 and 1000000") }
        guard !levels.isEmpty, levels.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0).isFinite }) else {
            throw ValidationError("--sigmas must be comma-separated positive numbers")
        }
    }

    private var levels: [Double?] { sigmas.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        threading.apply()
        try attempt {
            let run = RunDirectory(ckpt)
            let (model, config) = try run.loadDenoiser()
            guard let d = config.augmentedDimension else { throw Failure("\(ckpt): invalid aug_dim") }
            let dataset = try Dataset.load(data ?? config.data, dim: config.dim)
            guard dataset.dim == model.dim else { throw Failure("\(dataset.name): \(dataset.dim) coordinates, the model \(model.dim)") }
            let fit = PosteriorFit.measure(model, points: dataset.train, augmentedDimension: d,
                                           sigmas: levels.compactMap { $0 }, count: count, seed: seed)
            if json {
                for level in fit { print(jsonObject(fields(level))) }
            } else {
                print("D=\(d), \(dataset.train.rows) training points, \(count) perturbed points per σ; e = ‖D_θ − D*‖²")
                print("   σ       median e      p90 e     mean e    >10σ   median e there")
                for l in fit {
                    print(String(format: "%6.3g  %11.4g %10.4g %10.4g  %5.1f%%  %@", l.sigma, l.median, l.p90, l.mean,
                                 100 * l.farShare, l.farMedian.isNaN ? "-" : String(format: "%.4g", l.farMedian)))
                }
            }
        }
    }

    private func fields(_ l: PosteriorFit.Level) -> [(String, String)] {
        [("sigma", jsonNumber(l.sigma)), ("median", jsonNumber(l.median)), ("p90", jsonNumber(l.p90)),
         ("mean", jsonNumber(l.mean)), ("far_share", jsonNumber(l.farShare)), ("far_median", jsonNumber(l.farMedian))]
    }
}
