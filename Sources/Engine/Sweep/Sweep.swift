import Foundation

/// What a D sweep trains and measures; stored as DIR/sweep.json so a rerun continues the same
/// sweep.
public struct SweepPlan: Codable, Sendable, Equatable {
    public var data: String
    public var dim: Int?
    public var augDims: [String]
    public var seeds: Int
    public var steps: Int
    public var alphas: [Double]
    public var bits: [Int]
    public var nfe: [Int]
    /// Samples per evaluation.
    public var count: Int
    public var architecture = NetworkArchitecture.mlpEDM
    public var width = 256
    public var depth = 4
    public var batch = 512
    public var learningRate = 1e-3
    public var sigmaMin = 0.002
    public var sigmaMax = 80.0
    public var rho = 7.0
    /// The training kernel's quantile (nil, as in a sweep.json without the field: the whole
    /// kernel).
    public var kernelQuantile: Double?
    /// One network per seed over this range of D ("LO..HI[,inf]"), evaluated at each D of the grid,
    /// instead of a model per (D, seed).
    public var oneNetwork: String?
    /// How the one network draws D (nil: the defaults).
    public var draws: OneNetworkDraws?
    /// EDM's churn in every evaluation (nil, as in a sweep.json without the field: none).
    public var churn: Churn?
    /// Which weights the bits column quantizes (nil, as in a sweep.json without the field: all).
    public var quantScheme: QuantizationScheme?
    /// EDM's EMA and learning-rate schedules for every model (nil: `pfgm`'s own).
    public var schedule: TrainingSchedule?

    public init(
        data: String, augDims: [String], seeds: Int, steps: Int, alphas: [Double], bits: [Int],
        nfe: [Int], count: Int
    ) {
        self.data = data
        self.augDims = augDims
        self.seeds = seeds
        self.steps = steps
        self.alphas = alphas
        self.bits = bits
        self.nfe = nfe
        self.count = count
    }

    /// The plan with defaults spelled out, for comparing a stored plan with a new one.
    var normalized: SweepPlan {
        var p = self
        p.kernelQuantile = p.kernelQuantile ?? 1
        p.quantScheme = p.quantScheme ?? .all
        p.draws = p.draws?.normalized
        return p
    }

    /// Full precision: no quantization.
    public static let fullBits = SamplingRequest.fullBits
    /// The unperturbed setting every probe departs from: α = 0, full-precision weights, the largest
    /// NFE.
    public var baseNFE: Int { nfe.max() ?? 35 }

    public var problem: String? {
        if augDims.isEmpty || augDims.contains(where: { AugmentedDimension(parsing: $0) == nil }) {
            return "--aug-dims must list numbers ≥ \(AugmentedDimension.minimum) or inf"
        }
        if Set(augDims).count != augDims.count { return "--aug-dims lists a value twice" }
        if !(1...100).contains(seeds) { return "--seeds must be between 1 and 100" }
        if !(1...Limits.trainingSteps).contains(steps) {
            return "--steps must be between 1 and \(Limits.trainingSteps)"
        }
        if alphas.contains(where: { !($0 >= 0 && $0 <= 10) }) {
            return "--alphas must be between 0 and 10"
        }
        if bits.contains(where: { !(2...32).contains($0) }) {
            return "--bits must be between 2 and 32"
        }
        if nfe.isEmpty || nfe.contains(where: { $0 < 1 || $0 % 2 == 0 || $0 > 999 }) {
            return
                """
                --nfe must be odd numbers between 1 and 999 (Heun with n steps makes 2n − 1 \
                evaluations)
                """
        }
        if !(2...100_000).contains(count) { return "--count must be between 2 and 100000" }
        if let q = kernelQuantile, !(q >= 0.5 && q <= 1) {
            return "--kernel-quantile must be in [0.5, 1]"
        }
        if let r = schedule?.referenceBatch, r != 0, r < batch {
            return "--reference-batch must be 0 (off) or at least the batch (\(batch))"
        }
        if let oneNetwork {
            guard let range = AugmentedDimensionRange(parsing: oneNetwork) else {
                return "--one-network must be a range LO..HI[,inf]"
            }
            if let outside = augmentedDimensions.first(where: { !range.contains($0) }) {
                return "--aug-dims: D=\(outside) lies outside the one network's range \(range)"
            }
            if let problem = draws?.problem(range) { return problem }
        } else if draws != nil {
            return """
                --sharp-draws, --infinity-share, --feature-share and --p-mean-shift shape the \
                draws of --one-network
                """
        }
        return nil
    }

    public var augmentedDimensions: [AugmentedDimension] {
        augDims.compactMap { AugmentedDimension(parsing: $0) }
    }

    /// Every solver setting to evaluate, once each: the α row, the bits row and the NFE row through
    /// the base.
    public var points: [SweepPoint] {
        var out: [SweepPoint] = []
        func add(_ p: SweepPoint) { if !out.contains(p) { out.append(p) } }
        add(SweepPoint(alpha: 0, bits: Self.fullBits, nfe: baseNFE))
        for a in alphas { add(SweepPoint(alpha: a, bits: Self.fullBits, nfe: baseNFE)) }
        for b in bits { add(SweepPoint(alpha: 0, bits: b, nfe: baseNFE)) }
        for n in nfe { add(SweepPoint(alpha: 0, bits: Self.fullBits, nfe: n)) }
        return out
    }

    public func trainingConfig(
        dim: Int, sigmaData: Double, imageChannels: Int?, dimensions: TrainedDimensions,
        seed: Int
    ) -> TrainingConfig {
        var c = TrainingConfig(
            data: data, dim: dim, dimensions: dimensions, sigmaData: sigmaData, steps: steps)
        c.architecture = architecture
        c.channels = imageChannels
        c.width = width
        c.depth = depth
        c.batch = batch
        c.learningRate = learningRate
        c.seed = UInt64(seed)
        c.kernelQuantile = kernelQuantile
        schedule?.apply(to: &c)
        draws?.apply(to: &c)
        return c
    }

    /// The metric a sweep on `data` reports: fd-fmnist for labelled images, SWD otherwise.
    public func metricName(for data: Dataset) -> String {
        Self.scoresWithFrechet(data) ? "fd_fmnist" : "swd"
    }

    static func scoresWithFrechet(_ data: Dataset) -> Bool {
        data.labels != nil && data.imageSide != nil
    }

    /// Folder of one model's evaluations inside the sweep (and of its model, without a one
    /// network).
    public static func modelName(_ d: String, seed: Int) -> String { "D\(d)-s\(seed)" }

    /// Folder of the model that answers at D for a seed: the seed's one network, or the (D, seed)
    /// model.
    public func modelFolder(_ d: String, seed: Int) -> String {
        oneNetwork == nil ? Self.modelName(d, seed: seed) : "one-s\(seed)"
    }

    /// What each model trains at: its D, or the one network's range.
    public func trainedDimensions(_ d: String) -> TrainedDimensions? {
        TrainedDimensions(parsing: oneNetwork ?? d)
    }

    /// Models trained per seed: one per D, or the one network.
    public var modelsPerSeed: Int { oneNetwork == nil ? augDims.count : 1 }
}

/// One solver setting of the grid.
public struct SweepPoint: Codable, Sendable, Hashable {
    public var alpha: Double
    public var bits: Int
    public var nfe: Int

    public init(alpha: Double, bits: Int, nfe: Int) {
        self.alpha = alpha
        self.bits = bits
        self.nfe = nfe
    }

    public var key: String { "a\(alpha)-b\(bits)-n\(nfe)" }
    public var steps: Int { (nfe + 1) / 2 }
}

/// One measured evaluation: DIR/evals/<model>/<point>.json.
public struct SweepResult: Codable, Sendable, Equatable {
    public var augDim: String
    public var seed: Int
    public var alpha: Double
    public var bits: Int
    public var nfe: Int
    public var metric: String
    /// nil when sampling diverged (non-finite samples).
    public var value: Double?
    public var seconds: Double

    public init(
        augDim: String, seed: Int, alpha: Double, bits: Int, nfe: Int, metric: String,
        value: Double?, seconds: Double
    ) {
        self.augDim = augDim
        self.seed = seed
        self.alpha = alpha
        self.bits = bits
        self.nfe = nfe
        self.metric = metric
        self.value = value
        self.seconds = seconds
    }
}
