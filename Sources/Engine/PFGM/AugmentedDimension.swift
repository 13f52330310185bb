import Foundation

/// The augmented dimension D of PFGM++: a positive number, or infinity (the diffusion limit).
public enum AugmentedDimension: Sendable, Hashable, CustomStringConvertible, Comparable {
    case finite(Double)
    case infinite

    /// Parses "inf" (also "infinity", "∞") or a positive finite number; nil otherwise.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if ["inf", "infinity", "∞", "+inf"].contains(t) {
            self = .infinite
            return
        }
        guard let v = Double(t), v.isFinite, v > 0 else { return nil }
        self = .finite(v)
    }

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
