import Engine

/// The adjustable controls, in panel order.
public enum Control: Int, CaseIterable, Sendable {
    case augmentedDimension, steps, solver, alpha, bits, scheme, churn, seed, sigmaMax, sigmaMin
    case oracle

    /// The control `rows` below this one, wrapping around.
    func moved(by rows: Int) -> Control {
        let count = Self.allCases.count
        return Control(rawValue: ((rawValue + rows) % count + count) % count) ?? self
    }

    public var label: String {
        switch self {
        case .augmentedDimension: "D"
        case .steps: "steps"
        case .solver: "solver"
        case .alpha: "noise α"
        case .churn: "S_churn"
        case .bits: "weight bits"
        case .scheme: "quantizes"
        case .seed: "seed"
        case .sigmaMax: "σ_max"
        case .sigmaMin: "σ_min"
        case .oracle: "oracle"
        }
    }

    static let stepChoices = [1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 18, 24, 32, 48, 64, 100]
    static let alphaChoices = [0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0]
    static let churnChoices: [Double] = [0, 1, 5, 10, 20, 40, 80]
    static let bitChoices = [2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 32]
    static let sigmaMaxChoices: [Double] = [1, 5, 10, 20, 40, 80, 160, 320]
    static let sigmaMinChoices: [Double] = [1e-5, 1e-4, 5e-4, 0.002, 0.01, 0.05]

    public func value(_ s: StudioSettings, dim: Int) -> String {
        switch self {
        case .augmentedDimension:
            let ratio =
                s.augmentedDimension.isInfinite
                ? "∞" : Format.number(s.augmentedDimension.value / Double(dim))
            return "\(s.augmentedDimension)  D/N \(ratio)"
        case .steps: return "\(s.steps)  NFE \(s.functionEvaluations)"
        case .solver: return s.solver.rawValue
        case .alpha: return Format.number(s.alpha, digits: 2)
        case .churn: return s.churn.churn == 0 ? "0 (ODE)" : Format.number(s.churn.churn)
        case .bits: return s.bits >= 32 ? "32 (full)" : String(s.bits)
        case .scheme: return s.quantScheme == .all ? "all weights" : "official"
        case .seed: return String(s.seed)
        case .sigmaMax: return Format.number(s.sigmaMax)
        case .sigmaMin: return Format.number(s.sigmaMin)
        case .oracle: return s.useOracle ? "on" : "off"
        }
    }

    /// The settings with this control moved one notch up (+1) or down (−1).
    public func adjust(_ s: StudioSettings, by delta: Int, ladder: [AugmentedDimension])
        -> StudioSettings
    {
        var s = s
        switch self {
        case .augmentedDimension:
            s.augmentedDimension = Self.neighbour(of: s.augmentedDimension, in: ladder, delta)
        case .steps: s.steps = Self.neighbour(of: s.steps, in: Self.stepChoices, delta)
        case .solver: s.solver = s.solver == .heun ? .euler : .heun
        case .alpha: s.alpha = Self.neighbour(of: s.alpha, in: Self.alphaChoices, delta)
        case .churn:
            s.churn.churn = Self.neighbour(of: s.churn.churn, in: Self.churnChoices, delta)
        case .bits: s.bits = Self.neighbour(of: s.bits, in: Self.bitChoices, delta)
        case .scheme: s.quantScheme = s.quantScheme == .all ? .official : .all
        case .seed: s.seed = delta > 0 ? s.seed &+ 1 : (s.seed == 0 ? 0 : s.seed - 1)
        case .sigmaMax: s.sigmaMax = Self.neighbour(of: s.sigmaMax, in: Self.sigmaMaxChoices, delta)
        case .sigmaMin: s.sigmaMin = Self.neighbour(of: s.sigmaMin, in: Self.sigmaMinChoices, delta)
        case .oracle: s.useOracle.toggle()
        }
        return s
    }

    /// The next choice above or below `value` (values off the list snap to the nearest one in that
    /// direction).
    static func neighbour<T: Comparable>(of value: T, in choices: [T], _ delta: Int) -> T {
        guard let first = choices.first, let last = choices.last else { return value }
        if delta > 0 { return choices.first { $0 > value } ?? last }
        return choices.last { $0 < value } ?? first
    }
}
