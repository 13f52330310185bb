import Foundation

/// The denoiser network F_θ, as config.json and sweep.json name it.
public enum NetworkArchitecture: String, Codable, Sendable, CaseIterable {
    case mlpEDM = "mlp-edm"
    case unet

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let known = Self(rawValue: name) else {
            let expected = Self.allCases.map(\.rawValue).joined(separator: " or ")
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(name)' is not known (expected \(expected))")
        }
        self = known
    }
}

/// Everything that defines a training run; stored as the run directory's config.json.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var architecture = NetworkArchitecture.mlpEDM
    /// A built-in data set's name, or the data file's path (absolute in runs written now; see
    /// `DataLocation`).
    public var data: String
    /// The data file's path from the run folder (nil for built-in data, and in a config.json
    /// without the field).
    public var dataFromRun: String?
    public var dim: Int
    public var width: Int = 256
    public var depth: Int = 4
    public var embeddingChannels: Int = 128
    /// Colour channels of image data for the U-Net (nil: 1); its images are side×side with side² ·
    /// channels = dim.
    public var channels: Int?
    /// The D trained at: one, or a range for one network ("aug_dim": "8", "1..4096,inf").
    public var augDim: TrainedDimensions
    public var sigmaData: Double
    public var batch: Int = Self.defaultBatch
    public var learningRate: Double = 1e-3
    public var warmupSteps: Int = 200
    public var emaDecay: Double = 0.999
    /// Whether the EMA's decay ramps up from 0 (nil, as in a config.json without the field: yes).
    public var emaWarmup: Bool?
    /// EDM's EMA instead: a half-life in thousands of training images, ramped up as
    /// min(half-life, images so far × `emaRampup`) when that is set (nil: `emaDecay`).
    public var emaHalflifeKimg: Double?
    public var emaRampup: Double?
    /// EDM's learning-rate ramp-up over this many thousand images (nil: `warmupSteps`).
    public var lrRampupKimg: Double?
    /// Dropout in training, inside each residual block before its last layer (nil or 0: none).
    public var dropout: Double?
    public var pMean: Double = -1.2
    public var pStd: Double = 1.2
    public var seed: UInt64 = 0
    public var steps: Int
    /// For one network over a range that includes ∞: the share of training draws at D = ∞.
    public var infinityShare: Double?
    /// For one network: the share of finite draws uniform in N/(N + D) (nil: none, log-uniform
    /// only, as runs before it).
    public var featureShare: Double?
    /// For one network: ln σ's mean at a finite D is P_mean + this × N/(N + D) (nil: 0, as runs
    /// before it).
    public var pMeanShift: Double?
    /// The stable target field: regress on each row's posterior mean over this many clean points
    /// (the batch's own, then more from the data; see `StableTarget`) instead of on its y (nil or
    /// 0: off).
    public var referenceBatch: Int?
    /// Training draws radii only up to this quantile of the kernel (see `KernelTruncation`); nil or
    /// 1: the whole kernel.
    public var kernelQuantile: Double?

    /// A new run's config: the kernel truncated at `defaultKernelQuantile` (a config read from disk
    /// keeps its own).
    public init(
        data: String, dim: Int, augmentedDimension: AugmentedDimension, sigmaData: Double,
        steps: Int
    ) {
        self.init(
            data: data, dim: dim, dimensions: .one(augmentedDimension), sigmaData: sigmaData,
            steps: steps)
    }

    /// A new run at one D or, for one network, over a range of D.
    public init(
        data: String, dim: Int, dimensions: TrainedDimensions, sigmaData: Double, steps: Int
    ) {
        self.data = data
        self.dim = dim
        augDim = dimensions
        self.sigmaData = sigmaData
        self.steps = steps
        kernelQuantile = Self.defaultKernelQuantile
        if case .range(let range) = dimensions, range.includesInfinity {
            infinityShare = AugmentedDimensionRange.defaultInfinityShare
        }
    }

    /// The kernel quantile new runs train with: at D = 2 it fits the posterior mean ~50× closer at
    /// σ = 1 than the whole kernel, and leaves D ≥ 8 as it was (docs/results/small-d).
    public static let defaultKernelQuantile = 0.97

    /// The one D of a run trained at one D (nil for a range).
    public var augmentedDimension: AugmentedDimension? {
        if case .one(let d) = augDim { return d }
        return nil
    }
    /// Whether the network takes D as a condition (a run over a range of D).
    public var conditionsOnAugmentedDimension: Bool { augDim.isRange }
    public var network: MLPEDMConfig {
        MLPEDMConfig(
            dim: dim, width: width, depth: depth, embeddingChannels: embeddingChannels,
            conditionsOnAugmentedDimension: conditionsOnAugmentedDimension)
    }

    /// The kernel's truncation in training at D (nil: none).
    public func truncation(at d: AugmentedDimension) -> KernelTruncation? {
        KernelTruncation.make(quantile: kernelQuantile, dim: dim, augmentedDimension: d)
    }

    /// The U-Net's shape, when the data are square images.
    public var unet: UNetConfig? {
        let c = channels ?? 1
        guard c >= 1, dim % c == 0 else { return nil }
        let side = Int(Double(dim / c).squareRoot().rounded())
        guard side * side * c == dim, side >= 4 else { return nil }
        return UNetConfig(
            side: side, channels: c, width: width, depth: depth,
            embeddingChannels: embeddingChannels,
            conditionsOnAugmentedDimension: conditionsOnAugmentedDimension)
    }

    /// A freshly initialised F_θ of this config's architecture (the config must have no `problem`).
    public func makeNetwork(seed: UInt64) -> any DenoiserNetwork {
        if architecture == .unet, let unet { return UNet(config: unet, seed: seed) }
        return MLPEDM(config: network, seed: seed)
    }

    /// The data's standard deviation may be at most this: the preconditioning squares it, and the
    /// prior's draws at σ_max scale with it.
    public static let largestSigmaData = 1e6

    /// The parameter count of this config's network (its shape already checked to be in range).
    public var parameterCount: Int {
        if architecture == .unet, let unet { return unet.parameterCount }
        return network.parameterCount
    }

    /// The learning rate of the step after `done` steps: EDM's ramp over `lrRampupKimg` thousand
    /// images (rate · min(images seen / images of the ramp, 1), 0 at the first step), else the
    /// linear warm-up over `warmupSteps`.
    public func learningRate(afterSteps done: Int) -> Double {
        if let k = lrRampupKimg {
            return learningRate * min(Double(done * batch) / max(k * 1000, 1e-8), 1)
        }
        return learningRate * min(1, Double(done + 1) / Double(max(warmupSteps, 1)))
    }

    /// The EMA's schedule: EDM's half-life when one is set.
    public var emaHalfLife: ExponentialMovingAverage.HalfLife? {
        emaHalflifeKimg.map { .init(images: $0 * 1000, rampup: emaRampup, batch: batch) }
    }

    /// Nil when the settings are usable, else what is wrong.
    public var problem: String? {
        if architecture == .unet && unet == nil {
            return
                """
                the U-Net needs square images: \(dim) values are not side² × \(channels ?? 1) \
                channels
                """
        }
        if architecture == .unet && width > 1024 { return "U-Net width above 1024 is too large" }
        if dim < 1 || width < 1 || depth < 0 || embeddingChannels < 4 || embeddingChannels % 2 != 0
        {
            return "network shape is invalid"
        }
        if dim > 1_000_000 || width > 65_536 || depth > 1000 || embeddingChannels > 65_536 {
            return
                """
                network shape is too large (dim ≤ 1000000, width and embedding channels ≤ 65536, \
                depth ≤ 1000)
                """
        }
        if parameterCount > Limits.parameters {
            return
                """
                the network would have \(parameterCount) parameters, more than \
                \(Limits.parameters)
                """
        }
        if !(sigmaData > 0 && sigmaData <= Self.largestSigmaData) {
            return "sigma_data must be a positive number up to \(Self.largestSigmaData)"
        }
        if batch < 1 || batch > 1_000_000 { return "batch must be between 1 and 1000000" }
        if !(learningRate > 0 && learningRate.isFinite) {
            return "learning rate must be a positive number"
        }
        if !(emaDecay >= 0 && emaDecay < 1) { return "ema decay must be in [0, 1)" }
        if steps < 1 { return "steps must be at least 1" }
        if warmupSteps < 0 { return "warmup steps must not be negative" }
        if let h = emaHalflifeKimg, !(h > 0 && h.isFinite) {
            return "the EMA half-life must be a positive number of kimg"
        }
        if let r = emaRampup, !(r >= 0 && r.isFinite) {
            return "the EMA ramp-up ratio must be a number ≥ 0"
        }
        if let p = dropout, !(p >= 0 && p < 1) { return "dropout must be in [0, 1)" }
        if let k = lrRampupKimg, !(k >= 0 && k.isFinite) {
            return "the learning-rate ramp-up must be a number ≥ 0 of kimg"
        }
        if let problem = referenceBatchProblem { return problem }
        if let q = kernelQuantile, !(q >= 0.5 && q <= 1) {
            return "kernel quantile must be in [0.5, 1]"
        }
        if let share = infinityShare, !(share >= 0 && share < 1) {
            return "infinity share must be in [0, 1)"
        }
        if let share = featureShare, !(share >= 0 && share <= 1) {
            return "feature share must be in [0, 1]"
        }
        let largest = OneNetworkDraws.largestShift
        if let shift = pMeanShift, !(abs(shift) <= largest) {
            return "the P_mean shift must be in [-\(largest), \(largest)]"
        }
        return nil
    }
}

extension TrainingConfig {
    /// The most clean points a reference batch may hold.
    public static let largestReferenceBatch = 65_536

    /// The reference batch's rows when the stable target is on (nil: off).
    public var referenceRows: Int? { referenceBatch.flatMap { $0 > 0 ? $0 : nil } }

    /// A new run's batch.
    public static let defaultBatch = 512

    public var referenceBatchProblem: String? {
        Self.referenceBatchProblem(referenceBatch, batch: batch, dim: dim)
    }

    /// Nil when a reference batch of `r` points (nil or 0: none) suits the batch and the data's
    /// dimension, else what is wrong.
    public static func referenceBatchProblem(_ r: Int?, batch: Int, dim: Int) -> String? {
        guard let r, r != 0 else { return nil }
        let largest = largestReferenceBatch
        guard r >= batch, r <= largest else {
            return "the reference batch must be 0 (off) or from the batch (\(batch)) to \(largest)"
        }
        guard r * (batch + dim) <= Limits.values else {
            return
                """
                the reference batch would hold \(r) × (\(batch) + \(dim)) values, more than \
                \(Limits.values)
                """
        }
        return nil
    }
}

/// The official recipe's training settings, where they are wanted: EDM's EMA by half-life, the
/// learning rate ramped up over images, dropout, the stable target. Nil fields keep `pfgm`'s own.
public struct TrainingSchedule: Sendable, Equatable, Codable {
    public var emaHalflifeKimg: Double?
    public var emaRampup: Double?
    public var lrRampupKimg: Double?
    public var dropout: Double?
    /// The official code's stable target field over this many clean points (`--stf --rbatch`).
    public var referenceBatch: Int?

    public init(
        emaHalflifeKimg: Double? = nil, emaRampup: Double? = nil, lrRampupKimg: Double? = nil,
        dropout: Double? = nil, referenceBatch: Int? = nil
    ) {
        self.emaHalflifeKimg = emaHalflifeKimg
        self.emaRampup = emaRampup
        self.lrRampupKimg = lrRampupKimg
        self.dropout = dropout
        self.referenceBatch = referenceBatch
    }

    public var isDefault: Bool { self == TrainingSchedule() }

    public func apply(to config: inout TrainingConfig) {
        config.emaHalflifeKimg = emaHalflifeKimg
        config.emaRampup = emaHalflifeKimg == nil ? nil : emaRampup
        config.lrRampupKimg = lrRampupKimg
        config.dropout = dropout == 0 ? nil : dropout
        config.referenceBatch = referenceBatch == 0 ? nil : referenceBatch
    }
}
