import ArgumentParser
import Engine
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure sgemm and the MLP-EDM denoiser on this machine.",
        discussion: "Figures are the best of several windows; the machine is shared, so compare ratios within one run."
    )

    enum Config: String, ExpressibleByArgument, CaseIterable {
        case toy, imageMLP = "image-mlp"
    }

    @Option(help: "Reference configuration: toy (N=2, W=256, L=4) or image-mlp (N=784, W=1024, L=4).")
    var config: Config = .toy

    @Option(help: "Seconds per measurement window.")
    var seconds: Double = 1

    @Option(help: "OpenBLAS threads.")
    var threads: Int = 2

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be a positive number") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        let reference: NetworkBenchmark.Reference = config == .toy ? .toy : .imageMLP
        let result = NetworkBenchmark.run(reference, threads: threads, seconds: seconds)
        if json {
            let data = try JSONSerialization.data(withJSONObject: result.dictionary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(result.text)
        }
    }
}
