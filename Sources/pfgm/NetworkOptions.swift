import ArgumentParser
import Engine
import Foundation

enum Architecture: String, ExpressibleByArgument, CaseIterable {
    case mlp, unet

    var configName: NetworkArchitecture { self == .mlp ? .mlpEDM : .unet }
}

/// `--arch`, `--width`, `--depth`, shared by `train` and `sweep`; the defaults depend on the
/// architecture.
struct NetworkOptions: ParsableArguments {
    @Option(
        help:
            """
            Denoiser network: mlp (MLP-EDM, any data) or unet (convolutional U-Net, square \
            images).
            """
    )
    var arch: Architecture = .mlp

    @Option(
        name: .customLong("width"),
        help:
            """
            Network width: hidden units of the MLP (default 256), feature channels of the U-Net \
            (default 32).
            """
    )
    var explicitWidth: Int?

    @Option(
        name: .customLong("depth"),
        help:
            """
            Residual blocks: of the MLP (default 4), per resolution and side of the U-Net (default \
            2).
            """
    )
    var explicitDepth: Int?

    var width: Int { explicitWidth ?? (arch == .mlp ? 256 : 32) }
    var depth: Int { explicitDepth ?? (arch == .mlp ? 4 : 2) }
}
