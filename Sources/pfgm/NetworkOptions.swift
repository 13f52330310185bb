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

/// How a one network draws D and σ in training (train, sweep, the studio's `n`).
struct DrawOptions: ParsableArguments {
    @Flag(
        name: .customLong("sharp-draws"),
        help: ArgumentHelp(
            "One network: draw as the recipe that tells D apart most sharply.",
            discussion: """
                The same as --infinity-share \(AugmentedDimensionRange.sharpInfinityShare) \
                --feature-share \(AugmentedDimensionRange.sharpFeatureShare) --p-mean-shift \
                \(AugmentedDimensionRange.sharpPMeanShift) (each flag given wins). On the \
                measured point set its answers at D = 1 and 2 lean toward D = 8 as little as a \
                dedicated model's, or within 0.1 of it, for about 10% of its fit at D ≥ 8 \
                (docs/results/one-network).
                """))
    var sharp = false

    @Option(
        name: .customLong("infinity-share"),
        help: ArgumentHelp(
            "One network over LO..HI,inf: the share of training draws at D = ∞.",
            discussion: "Default \(AugmentedDimensionRange.defaultInfinityShare)."))
    var infinityShare: Double?

    @Option(
        name: .customLong("feature-share"),
        help: ArgumentHelp(
            "One network: the share of finite draws uniform in N/(N + D), not log-uniform in D.",
            discussion: """
                Default 0 (log-uniform only). Draws uniform in N/(N + D) follow how fast the \
                kernel changes with D (small D at small N), at the cost of draws at large D.
                """))
    var featureShare: Double?

    @Option(
        name: .customLong("p-mean-shift"),
        help: ArgumentHelp(
            "One network: raise ln σ's mean (P_mean) at finite D by this × N/(N + D).",
            discussion: """
                Default 0. Small D's draws then move from low σ, where every D answers alike, to \
                the σ where D shows; no draws move from large D. 1 lets D = 1 lean toward D = 8 \
                no more than a dedicated model, and D = 2 less, at no cost at D ≥ 8 on the \
                measured point set (docs/results/one-network).
                """))
    var pMeanShift: Double?

    var given: Bool { sharp || infinityShare != nil || featureShare != nil || pMeanShift != nil }

    /// The draws given, for a one network over `range` (the sharp draws' share of ∞ only where
    /// the range has ∞).
    func draws(over range: AugmentedDimensionRange?) -> OneNetworkDraws {
        let base = sharp ? OneNetworkDraws.sharp : OneNetworkDraws()
        return OneNetworkDraws(
            infinity: infinityShare ?? (range?.includesInfinity == false ? nil : base.infinity),
            feature: featureShare ?? base.feature, pMeanShift: pMeanShift ?? base.pMeanShift)
    }

    /// What the flags name, for messages.
    static let flags = "--sharp-draws, --infinity-share, --feature-share and --p-mean-shift"
}

/// The official recipe's training settings (train, sweep, the studio's training).
struct ScheduleOptions: ParsableArguments {
    @Option(
        name: .customLong("ema-halflife-kimg"),
        help:
            """
            EDM's EMA: a half-life of this many thousand training images (the official recipe: \
            500) instead of --ema-decay.
            """)
    var emaHalflifeKimg: Double?

    @Option(
        name: .customLong("ema-rampup"),
        help:
            """
            With --ema-halflife-kimg: cap the half-life at images seen × this ratio (EDM: 0.05, \
            the default; 0 for none).
            """)
    var emaRampup: Double?

    @Option(
        name: .customLong("lr-rampup-kimg"),
        help:
            """
            EDM's learning-rate ramp-up over this many thousand images (the official recipe: \
            10000) instead of --warmup.
            """)
    var lrRampupKimg: Double?

    @Option(
        help:
            """
            Dropout probability in training, in each residual block before its last layer, as in \
            EDM (the official CIFAR-10 recipe: 0.13). Sampling never drops.
            """)
    var dropout: Double?

    @Option(
        name: .customLong("reference-batch"),
        help: ArgumentHelp(
            """
            The stable target field (the official code's --stf with --rbatch, 4096 there): each \
            row regresses on its posterior mean over R clean points, the batch's own and R − \
            batch more, instead of on its own point. Far less noise in the target where the \
            posterior is wide (large σ, small D); the loss logged is against it. R ≥ \
            --batch; 0: off, the default.
            """, valueName: "R"))
    var referenceBatch: Int?

    func validate() throws {
        if emaRampup != nil && emaHalflifeKimg == nil {
            throw ValidationError("--ema-rampup applies with --ema-halflife-kimg")
        }
        let largest = TrainingConfig.largestReferenceBatch
        if let r = referenceBatch, !(0...largest).contains(r) {
            throw ValidationError(
                "--reference-batch must be 0 (off) or from the batch up to \(largest), not \(r)")
        }
        // The batch is checked against the reference batch where it is known.
        var config = TrainingConfig(
            data: "", dim: 1, augmentedDimension: .infinite, sigmaData: 1, steps: 1)
        schedule.apply(to: &config)
        config.referenceBatch = nil
        if let problem = config.problem { throw ValidationError(problem) }
    }

    var schedule: TrainingSchedule {
        TrainingSchedule(
            emaHalflifeKimg: emaHalflifeKimg,
            emaRampup: emaHalflifeKimg == nil ? nil : (emaRampup ?? 0.05).nonZero,
            lrRampupKimg: lrRampupKimg, dropout: dropout, referenceBatch: referenceBatch)
    }
}

extension Double {
    /// nil for 0.
    fileprivate var nonZero: Double? { self == 0 ? nil : self }
}
