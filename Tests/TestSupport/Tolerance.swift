/// How close two computations of one quantity must be, stated in the terms of the arithmetic that
/// separates them, so a bound follows from the method rather than from one machine's results.
/// Shared by every test target.
public enum Tolerance: Sendable, CustomStringConvertible {
    /// Within this many units in the last place of float32 at the larger magnitude: rounding of a
    /// few operations, whichever way a compiler or CPU orders or fuses them.
    case ulps(Double)
    /// Sums of `terms` float32 products evaluated in another order (another kernel, blocking,
    /// threads, FMA or not): the classic bound terms·ε·Σ|products|, with the sum's scale given as
    /// `magnitude` (for example the largest |output|).
    case reordered(terms: Int, magnitude: Double)
    /// A relative error the method itself states (a polynomial's, a series', a difference
    /// quotient's), beyond rounding.
    case relative(Double)

    /// float32's machine epsilon, 2⁻²³.
    public static let epsilon = Double(Float.ulpOfOne)

    /// The largest difference allowed between `a` and `b`.
    public func bound(_ a: Double, _ b: Double) -> Double {
        let magnitude = max(abs(a), abs(b))
        switch self {
        case .ulps(let n): return n * Double(Float(magnitude).ulp)
        case .reordered(let terms, let scale): return Double(terms) * Self.epsilon * scale
        case .relative(let r): return r * magnitude
        }
    }

    public var description: String {
        switch self {
        case .ulps(let n): "\(n) ulp"
        case .reordered(let terms, let scale): "\(terms)·ε·\(scale)"
        case .relative(let r): "relative \(r)"
        }
    }
}

/// The worst pair of two sequences against a tolerance: `ratio` is |a − b| over its bound there,
/// so the two agree when it is at most 1.
public struct Closeness: CustomStringConvertible {
    public var ratio = 0.0
    public var index = -1
    public var values = (0.0, 0.0)
    public var tolerance: Tolerance

    public var holds: Bool { ratio <= 1 }

    public init<A: Sequence, B: Sequence>(_ a: A, _ b: B, within tolerance: Tolerance)
    where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
        self.tolerance = tolerance
        for (i, (x, y)) in zip(a, b).enumerated() {
            let (dx, dy) = (Double(x), Double(y))
            let difference = abs(dx - dy)
            let bound = tolerance.bound(dx, dy)
            let ratio = difference == 0 ? 0 : bound > 0 ? difference / bound : .infinity
            guard ratio > self.ratio || ratio.isNaN else { continue }
            (self.ratio, index, values) = (ratio.isNaN ? .infinity : ratio, i, (dx, dy))
        }
    }

    public var description: String {
        "worst at \(index): \(values.0) vs \(values.1), \(ratio)× the bound (\(tolerance))"
    }
}
