import ArgumentParser
import Engine
import Foundation

/// `--threads`, shared by the commands that train or sample.
struct ThreadOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            """
            Threads for training and sampling: each batch is cut into this many ranges of rows. \
            Default: the cores this process may use (affinity mask and cgroup CPU quota; \
            \(Cores.available) here).
            """,
            valueName: "n"))
    var threads: Int?

    /// The count in force: --threads, else every core this process may use.
    var count: Int { threads ?? min(Cores.available, 256) }

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256")
        }
    }

    func apply() { Compute.setThreads(count) }
}

/// `--bits`, shared by the commands that evaluate a trained model.
struct QuantizationOptions: ParsableArguments {
    @Option(
        help:
            """
            Quantize the model's weight tensors to this many bits (a copy; the checkpoint is \
            unchanged).
            """
    )
    var bits: Int?

    @Option(
        name: .customLong("quant-scheme"),
        help:
            """
            Which weights --bits quantizes: all (every weight tensor, over [min(w, 0), max(w, 0)]) \
            or official (the official PFGM++ evaluation's: over each tensor's own min and max with \
            a truncated zero point, leaving norms, the embedding maps and projections and the \
            layers at the data's resolution in full precision).
            """)
    var quantScheme: QuantizationScheme = .all

    func validate() throws {
        if let bits {
            guard (1...32).contains(bits) else {
                throw ValidationError("--bits must be between 1 and 32")
            }
        }
    }

    /// Replaces the model's weights by their quantized copy when --bits is given.
    func apply(to model: NetworkDenoiser) {
        if let bits {
            model.network.parameters = Quantization.quantized(
                model.network.parameters, bits: bits, scheme: quantScheme)
        }
    }
}

extension QuantizationScheme: ExpressibleByArgument {}
