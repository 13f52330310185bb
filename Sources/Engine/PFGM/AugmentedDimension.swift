import Foundation

/// The augmented dimension D of PFGM++: a positive number, or infinity (the diffusion limit).
public enum AugmentedDimension: Sendable, Hashable, CustomStringConvertible, Comparable {
    case finite(Double)
    case infinite

    /// The smallest D the method supports: below it the prior's power-law tail (R²/r² ~
    /// Beta-prime(N/2, D/2)) puts 1% of the draws at σ_max = 80 beyond 10²¹ (at D = 0.1, N = 2),
    /// and by D = 0.05 beyond float32's range, where no solver can bring them back.
    public static let minimum = 0.1

    /// Parses "inf" (also "infinity", "∞") or a finite number of at least `minimum`; nil otherwise.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if ["inf", "infinity", "∞", "+inf"].contains(t) {
            self = .infinite
            return
        }
        guard let v = Double(t), v.isFinite, v >= Self.minimum else { return nil }
        self = .finite(v)
    }

    /// What D may be, for messages.
    public static let accepted =
        "a number ≥ \(minimum) or inf (smaller D puts the prior beyond float32's range)"

    public var isInfinite: Bool { self == .infinite }

    /// D as a number (+∞ for the diffusion limit).
    public var value: Double {
        switch self {
        case .finite(let d): d
        case .infinite: .infinity
        }
    }

    /// "inf" or the number without a trailing ".0".
    public var description: String {
        switch self {
        case .infinite: "inf"
        case .finite(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        }
    }

    /// r = σ·√D, the radius aligned with the noise level σ.
    public func radius(sigma: Double) -> Double { sigma * value.squareRoot() }

    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

/// The D values one network is trained over: on [lower, upper] (see `draw`), and D = ∞ with a fixed
/// share when the range includes it. Written "LO..HI" or "LO..HI,inf".
public struct AugmentedDimensionRange: Sendable, Hashable, CustomStringConvertible {
    public let lower: Double
    public let upper: Double
    public let includesInfinity: Bool

    /// The share of training draws at D = ∞ new runs use when the range includes it (recorded in
    /// config.json).
    public static let defaultInfinityShare = 0.25
    /// The draws that tell D apart most sharply on the measured point set (docs/results/
    /// one-network, "Telling D apart"): ∞ for 0.4 of the draws, 0.75 of the finite ones uniform
    /// in N/(N + D), and ln σ's mean raised by 1·N/(N + D) at finite D. Not the default: they
    /// cost D ≥ 8 about 10% of its fit there.
    public static let sharpInfinityShare = 0.4
    public static let sharpFeatureShare = 0.75
    public static let sharpPMeanShift = 1.0

    public init?(lower: Double, upper: Double, includesInfinity: Bool) {
        guard lower >= AugmentedDimension.minimum, lower.isFinite, upper.isFinite, upper > lower
        else { return nil }
        self.lower = lower
        self.upper = upper
        self.includesInfinity = includesInfinity
    }

    /// Parses "LO..HI" or "LO..HI,inf" (LO < HI, both positive and finite); nil otherwise.
    public init?(parsing text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).lowercased().split(
            separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        if parts.count == 2 {
            guard AugmentedDimension(parsing: String(parts[1])) == .infinite else { return nil }
        }
        let ends = parts[0].components(separatedBy: "..")
        guard ends.count == 2, case .finite(let lo)? = AugmentedDimension(parsing: ends[0]),
            case .finite(let hi)? = AugmentedDimension(parsing: ends[1])
        else { return nil }
        self.init(lower: lo, upper: hi, includesInfinity: parts.count == 2)
    }

    public var description: String {
        "\(AugmentedDimension.finite(lower))..\(AugmentedDimension.finite(upper))"
            + (includesInfinity ? ",inf" : "")
    }

    public func contains(_ d: AugmentedDimension) -> Bool {
        switch d {
        case .infinite: includesInfinity
        case .finite(let v): v >= lower && v <= upper
        }
    }

    /// One training draw: ∞ with `infinityShare` (when included); else, with `featureShare`,
    /// uniform in b = N/(N + D) over the range, and log-uniform on [lower, upper] otherwise.
    /// b = E[B] is the mean share of the kernel's R² in the data's N coordinates (c_aug = 8b), so
    /// these draws follow how fast the kernel changes with D: at N = 2 they put a quarter of their
    /// mass at D ≤ 2 and half at D ≤ 4, at N = 196 half at D ≤ 196. No share draws nothing more
    /// (runs before it replay exactly).
    public func draw(
        _ rng: inout RandomSource, infinityShare: Double, featureShare: Double = 0, dim: Int = 1
    ) -> AugmentedDimension {
        if includesInfinity && rng.uniform() < infinityShare { return .infinite }
        if featureShare > 0 && rng.uniform() < featureShare {
            let n = Double(dim)
            let share = { (d: Double) in n / (n + d) }
            let b = share(upper) + rng.uniform() * (share(lower) - share(upper))
            return .finite(min(upper, max(lower, n / b - n)))
        }
        return .finite(exp(log(lower) + rng.uniform() * (log(upper) - log(lower))))
    }
}

/// How a one network's training draws D and σ at each D, when not by the defaults: the share at
/// D = ∞, the share of finite draws uniform in N/(N + D), and how far ln σ's mean moves up at a
/// finite D, times N/(N + D) (nil: the default).
public struct OneNetworkDraws: Codable, Sendable, Equatable {
    public var infinity: Double?
    public var feature: Double?
    public var pMeanShift: Double?

    public init(infinity: Double? = nil, feature: Double? = nil, pMeanShift: Double? = nil) {
        self.infinity = infinity
        self.feature = feature
        self.pMeanShift = pMeanShift
    }

    /// The draws of the recipe that tells D apart most sharply on the measured point set
    /// (docs/results/one-network, "Telling D apart").
    public static let sharp = OneNetworkDraws(
        infinity: AugmentedDimensionRange.sharpInfinityShare,
        feature: AugmentedDimensionRange.sharpFeatureShare,
        pMeanShift: AugmentedDimensionRange.sharpPMeanShift)

    /// Why these draws do not fit a one network over `range`, if they do not.
    public func problem(_ range: AugmentedDimensionRange) -> String? {
        if let share = infinity, !(share >= 0 && share < 1) {
            return "--infinity-share must be in [0, 1)"
        }
        if let share = feature, !(share >= 0 && share <= 1) {
            return "--feature-share must be in [0, 1]"
        }
        if let shift = pMeanShift, !(abs(shift) <= Self.largestShift) {
            return "--p-mean-shift must be in [-\(Self.largestShift), \(Self.largestShift)]"
        }
        if infinity != nil && !range.includesInfinity {
            return "--infinity-share: the range \(range) has no ∞ (write \(range),inf)"
        }
        return nil
    }

    /// A shift of ln σ's mean beyond this moves the draws past the sampler's σ_max.
    public static let largestShift = 4.0

    /// The share at D = ∞ these draws use.
    public var infinityShare: Double { infinity ?? AugmentedDimensionRange.defaultInfinityShare }
    /// The share of finite draws uniform in N/(N + D) these draws use.
    public var featureShare: Double { feature ?? 0 }
    /// The shift of ln σ's mean at a finite D, per unit of N/(N + D), these draws use.
    public var shift: Double { pMeanShift ?? 0 }

    /// The same draws with the defaults spelled out; nil when they are the defaults.
    public var normalized: OneNetworkDraws? {
        spelledOut == OneNetworkDraws().spelledOut ? nil : spelledOut
    }

    private var spelledOut: OneNetworkDraws {
        OneNetworkDraws(infinity: infinityShare, feature: featureShare, pMeanShift: shift)
    }

    /// How these draws go over a range with or without ∞, in words; nil for the defaults.
    public func phrase(includesInfinity: Bool) -> String? {
        guard let draws = normalized else { return nil }
        let finite = draws.featureShare
        var parts = [
            finite > 0
                ? "\(finite) of the finite ones uniform in N/(N + D)"
                : "the finite ones log-uniform"
        ]
        if includesInfinity { parts.insert("∞ for \(draws.infinityShare) of the draws", at: 0) }
        if draws.shift != 0 { parts.append("ln σ's mean + \(draws.shift)·N/(N + D)") }
        return parts.joined(separator: ", ")
    }

    /// The draws a run's config records.
    public init(_ config: TrainingConfig) {
        self.init(
            infinity: config.infinityShare, feature: config.featureShare,
            pMeanShift: config.pMeanShift)
    }

    public func apply(to config: inout TrainingConfig) {
        if let feature { config.featureShare = feature }
        if let infinity { config.infinityShare = infinity }
        if let pMeanShift { config.pMeanShift = pMeanShift }
    }
}

/// What a run was trained at: one D, or a range that one network answers over.
public enum TrainedDimensions: Sendable, Hashable, CustomStringConvertible, Codable {
    case one(AugmentedDimension)
    case range(AugmentedDimensionRange)

    /// "D" or "LO..HI[,inf]"; nil when neither.
    public init?(parsing text: String) {
        if let d = AugmentedDimension(parsing: text) {
            self = .one(d)
        } else if let r = AugmentedDimensionRange(parsing: text) {
            self = .range(r)
        } else {
            return nil
        }
    }

    /// As text ("8", "inf", "1..4096,inf"), the way config.json and the command line write it.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Self(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: """
                    '\(text)' is not a number ≥ \(AugmentedDimension.minimum), inf, or a range \
                    LO..HI[,inf]
                    """)
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        switch self {
        case .one(let d): d.description
        case .range(let r): r.description
        }
    }

    public func contains(_ d: AugmentedDimension) -> Bool {
        switch self {
        case .one(let trained): trained == d
        case .range(let r): r.contains(d)
        }
    }

    public var isRange: Bool {
        if case .range = self { return true }
        return false
    }

    /// The D a sampler uses when none is asked for: the run's own D, or the range's top (∞ when
    /// included).
    public var defaultDimension: AugmentedDimension {
        switch self {
        case .one(let d): d
        case .range(let r): r.includesInfinity ? .infinite : .finite(r.upper)
        }
    }
}
