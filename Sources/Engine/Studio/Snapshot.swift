import Foundation

/// What the user can set in the studio; the UI owns the edited copy and sends it whole.
public struct StudioSettings: Sendable, Equatable {
    public var augmentedDimension: AugmentedDimension
    public var steps: Int = 18
    public var solver: Solver = .heun
    public var alpha: Double = 0
    /// EDM's stochastic sampler (S_churn 0: off).
    public var churn = Churn()
    /// Weight bits for sampling; 32 means full precision.
    public var bits: Int = 32
    /// Which weights `bits` quantizes.
    public var quantScheme = QuantizationScheme.all
    public var seed: UInt64 = 0
    public var sigmaMax: Double = 80
    public var sigmaMin: Double = 0.002
    public var useOracle = false
    /// Preview with the one network (when there is one and it answers at the shown D) rather than
    /// the D's own model.
    public var useOneNetwork = true

    public init(augmentedDimension: AugmentedDimension) {
        self.augmentedDimension = augmentedDimension
    }

    public var schedule: NoiseSchedule {
        NoiseSchedule(steps: steps, sigmaMin: sigmaMin, sigmaMax: sigmaMax)
    }
    public var functionEvaluations: Int { schedule.functionEvaluations(solver) }
    public var sampler: Sampler {
        Sampler(schedule: schedule, solver: solver, alpha: alpha, churn: churn)
    }
}

public enum StudioCommand: Sendable {
    /// Space: pause or resume training (starts at the shown D when nothing trains yet).
    case toggleTraining
    /// `t`: train at the shown D, creating its model if the bank has none.
    case trainShown
    /// Any control changed: apply and resample.
    case apply(StudioSettings)
    /// `r` (new seed, carried in the settings) and `R` (same seed).
    case resample(StudioSettings)
    /// `n`: train the one network for every D of the slider, creating it when there is none.
    case trainOneNetwork
    /// `g` opens the probes view (true), Esc closes it (false).
    case probes(Bool)
    /// `c` opens the view of the same noise across D (true), Esc closes it (false).
    case coupled(Bool)
    /// `k` opens the view of each preview image beside its nearest training image (true), Esc
    /// closes it (false).
    case nearest(Bool)
    /// `s`: save the shown D's model.
    case save
    /// `e`: write the view as a PNG with its settings and the command that draws it again.
    case export(ExportView)
    /// Save what changed and stop.
    case quit
}

public enum EngineState: String, Sendable {
    case starting, training, paused, sampling, saving, stopped, following
}

/// How preview points map to the screen.
public enum PreviewKind: Sendable, Equatable {
    /// 2-D data as it is.
    case plane
    /// N > 2: the data's top two principal components.
    case projection
    /// Square images of this side and channel count (1 grey, 3 colour), values in [−1, 1].
    case image(side: Int, channels: Int = 1)

    public var isImage: Bool {
        if case .image = self { return true }
        return false
    }
}

/// Losses of every step, kept at a resolution that halves whenever the buckets fill, so the
/// history stays small however long training runs.
public struct LossHistory: Sendable, Equatable {
    public private(set) var buckets: [Float] = []
    public private(set) var stepsPerBucket = 1
    private var partialSum: Double = 0
    private var partialCount = 0
    public static let capacity = 2048

    public init() {}

    public mutating func append(_ loss: Float) {
        partialSum += Double(loss)
        partialCount += 1
        guard partialCount == stepsPerBucket else { return }
        buckets.append(Float(partialSum / Double(partialCount)))
        partialSum = 0
        partialCount = 0
        if buckets.count >= Self.capacity {
            buckets = stride(from: 0, to: buckets.count - 1, by: 2).map {
                (buckets[$0] + buckets[$0 + 1]) / 2
            }
            stepsPerBucket *= 2
        }
    }

    /// A logged line's mean for every step of its window, the steps after `previous` up to the
    /// line's; returns the line's step (nothing added for a line not past `previous`).
    @discardableResult
    public mutating func extend(with line: StatsLine, after previous: Int) -> Int {
        guard line.step > previous else { return previous }
        for _ in previous..<line.step { append(Float(line.loss)) }
        return line.step
    }
}

/// What a message line says: news, a model saved, or a problem (the message line shows it in
/// the theme's colour for bad news).
public enum MessageKind: Sendable, Equatable {
    case news, saved, problem
}

/// What the metrics panel and the probes measure: the sliced Wasserstein distance (of points, or
/// of the pixels of images without a classifier), or fd-fmnist, the Fréchet distance in the
/// features of the studio's Fashion-MNIST classifier. The raw value is the name `pfgm eval` uses.
public enum StudioMetric: String, Sendable, Equatable {
    case swd
    case pixels
    case frechet = "fd-fmnist"
}

/// What drew a row's samples: a D's own model, the one network, or the oracle denoiser. Rows at
/// one D are listed in this order.
public enum SampleSource: String, Sendable, Equatable, CaseIterable, Comparable {
    case model
    case oneNetwork = "one"
    case oracle

    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}

/// A metrics panel's row: one per D and source, the newest kept.
public protocol ScoredRow {
    var augmentedDimension: AugmentedDimension { get }
    var source: SampleSource { get }
}

extension Array where Element: ScoredRow {
    /// Replaces the row of the same D and source, keeping the rows in order of D, then source.
    public mutating func replace(with row: Element) {
        removeAll { $0.augmentedDimension == row.augmentedDimension && $0.source == row.source }
        append(row)
        sort { ($0.augmentedDimension, $0.source) < ($1.augmentedDimension, $1.source) }
    }
}

public struct MetricRow: Sendable, Equatable, ScoredRow {
    public init(
        augmentedDimension: AugmentedDimension, source: SampleSource, step: Int, swd: Double,
        swdFloor: Double, mmdSquared: Double, mmdSquaredFloor: Double
    ) {
        self.augmentedDimension = augmentedDimension
        self.source = source
        self.step = step
        self.swd = swd
        self.swdFloor = swdFloor
        self.mmdSquared = mmdSquared
        self.mmdSquaredFloor = mmdSquaredFloor
    }

    public var augmentedDimension: AugmentedDimension
    public var source: SampleSource
    public var step: Int
    public var swd: Double
    public var swdFloor: Double
    public var mmdSquared: Double
    public var mmdSquaredFloor: Double
    /// The share of samples closer to a training point than held-out data's median (see
    /// `Memorisation`), and held-out data's own share; nil when not measured.
    public var memorisation: Double?
    public var memorisationFloor: Double?
}

/// The one network of the studio: the range of D it answers over and its step.
public struct OneNetworkEntry: Sendable, Equatable {
    public var range: AugmentedDimensionRange
    public var step: Int

    public init(range: AugmentedDimensionRange, step: Int) {
        self.range = range
        self.step = step
    }
}

/// A model's losses for the loss panel's overlay (`L`): its D (nil: the one network) and history.
public struct ModelLoss: Sendable {
    public var augmentedDimension: AugmentedDimension?
    public var history: LossHistory

    public init(augmentedDimension: AugmentedDimension?, history: LossHistory) {
        self.augmentedDimension = augmentedDimension
        self.history = history
    }
}

public struct BankEntry: Sendable, Equatable {
    public init(augmentedDimension: AugmentedDimension, step: Int) {
        self.augmentedDimension = augmentedDimension
        self.step = step
    }

    public var augmentedDimension: AugmentedDimension
    public var step: Int
}

/// The latest preview: samples in screen coordinates (2-D or projected) or raw images, and the
/// trajectory x_σ of the run that made them.
public struct Preview: Sendable {
    public init(
        points: Matrix, trajectory: [Matrix], trajectorySigmas: [Double], source: String,
        settings: StudioSettings, seconds: Double
    ) {
        self.points = points
        self.trajectory = trajectory
        self.trajectorySigmas = trajectorySigmas
        self.source = source
        self.settings = settings
        self.seconds = seconds
    }

    public var points: Matrix
    public var trajectory: [Matrix]
    public var trajectorySigmas: [Double]
    /// The panel's words for what drew the samples ("model D=8, step 500").
    public var source: String
    /// What drew them, and the model's step (0 for the oracle).
    public var kind = SampleSource.oracle
    public var step = 0
    /// The samples as drawn (`points` are their projection for N > 2).
    public var samples: Matrix?
    public var settings: StudioSettings
    public var seconds: Double
}

/// Everything the UI shows, published by the engine as one immutable value.
public struct Snapshot: Sendable {
    public var version = 0
    public var dataName: String
    public var dim: Int
    public var sigmaData: Double
    public var kind: PreviewKind
    /// Bounds of the data in screen coordinates (x: min, max; y: min, max), with a margin.
    public var bounds: (Double, Double, Double, Double)
    /// A subset of the data in screen coordinates, for the overlay.
    public var overlay: Matrix
    public var ladder: [AugmentedDimension]
    public var settings: StudioSettings
    public var state: EngineState = .starting
    public var trainingDimension: AugmentedDimension?
    public var step = 0
    public var stepsPerSecond = 0.0
    public var lastLoss: Float?
    public var loss = LossHistory()
    public var bank: [BankEntry] = []
    /// Every model's losses, the bank's in order of D and then the one network's.
    public var losses: [ModelLoss] = []
    public var oneNetwork: OneNetworkEntry?
    /// Whether the one network is what trains (or trained last).
    public var trainingOneNetwork = false
    public var preview: Preview?
    public var metrics: [MetricRow] = []
    /// For image data: fd-fmnist (or the pixels' SWD) of background batches, with floor and
    /// ceiling.
    public var imageMetrics: ImageMetrics?
    /// The probes view's curves while it is open (`g`).
    public var probes: Probes?
    /// The same noise across D (`c`); nil while closed.
    public var coupled: CoupledGrid?
    /// Each preview image beside its nearest training image (`k`); nil while closed.
    public var nearest: NearestImages?
    public var message = ""
    public var messageKind = MessageKind.news
    /// What a following studio (`--follow`) watches, and how it stands.
    public var follow: FollowStatus?
    /// The opened sweep's tables and findings as text lines (empty without a sweep).
    public var sweep: [String] = []
    /// Serious messages (divergence) to repeat on stderr once the terminal is restored.
    public var warnings: [String] = []

    public init(
        dataName: String, dim: Int, sigmaData: Double, kind: PreviewKind,
        bounds: (Double, Double, Double, Double),
        overlay: Matrix, ladder: [AugmentedDimension], settings: StudioSettings
    ) {
        self.dataName = dataName
        self.dim = dim
        self.sigmaData = sigmaData
        self.kind = kind
        self.bounds = bounds
        self.overlay = overlay
        self.ladder = ladder
        self.settings = settings
    }
}

/// One D of the coupled view: the samples drawn there from the shared noise, and what drew them.
public struct CoupledPanel: Sendable {
    public var augmentedDimension: AugmentedDimension
    /// What drew them: "one network", "model", "oracle", with the model's step.
    public var label: String
    /// Screen points, or image rows.
    public var points: Matrix
    /// The step of the model that drew them (0: the oracle).
    public var step = 0

    public init(augmentedDimension: AugmentedDimension, label: String, points: Matrix) {
        self.augmentedDimension = augmentedDimension
        self.label = label
        self.points = points
    }
}

/// The coupled view: the panels done so far, of `total`, for one set of settings.
public struct CoupledGrid: Sendable {
    public var panels: [CoupledPanel] = []
    public var total: Int
    /// From the grid's start to its last panel, once it is whole.
    public var seconds: Double?

    public init(total: Int) { self.total = total }
}

/// The preview's images, each with its nearest training image and the distance between them, and
/// held-out data's median distance to its nearest training image (closer than it: memorised).
public struct NearestImages: Sendable {
    public var samples: Matrix
    public var neighbours: Matrix
    public var distances: [Double]
    public var threshold: Double
    /// The share of samples closer than the threshold.
    public var share: Double {
        Double(distances.filter { $0 < threshold }.count) / Double(max(distances.count, 1))
    }

    public init(samples: Matrix, neighbours: Matrix, distances: [Double], threshold: Double) {
        self.samples = samples
        self.neighbours = neighbours
        self.distances = distances
        self.threshold = threshold
    }
}
