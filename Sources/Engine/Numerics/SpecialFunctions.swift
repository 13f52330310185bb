import Foundation

/// Distribution functions the kernel's truncation needs, in double precision.
public enum SpecialFunctions {
    /// P(B ≤ x) for B ~ Beta(a, b), x given through its log-odds s = log(x/(1 − x)), so x near 1
    /// keeps its precision. Continued fraction (modified Lentz), on the side where it converges
    /// fast.
    public static func betaCDF(logOdds s: Double, a: Double, b: Double) -> Double {
        if s == .infinity { return 1 }
        if s == -.infinity { return 0 }
        let logX = -log1pExp(-s)
        let log1mX = -log1pExp(s)
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * logX + b * log1mX
        let x = exp(logX)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * betaContinuedFraction(x: x, oneMinusX: exp(log1mX), a: a, b: b)
                / a
        }
        return 1 - exp(logFront) * betaContinuedFraction(x: exp(log1mX), oneMinusX: x, a: b, b: a)
            / b
    }

    /// P(G ≤ x) for G ~ Gamma(a, 1): the series below a + 1, the continued fraction above.
    public static func gammaCDF(_ x: Double, shape a: Double) -> Double {
        guard x > 0 else { return 0 }
        guard x.isFinite else { return 1 }
        let logFront = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a
            var sum = term
            var k = a
            for _ in 0..<100_000 {
                k += 1
                term *= x / k
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return min(1, exp(logFront) * sum)
        }
        return max(0, 1 - exp(logFront) * gammaContinuedFraction(x, a))
    }

    /// The t with f(t) = p for an increasing f from 0 to 1 over the reals, by bisection after
    /// bracketing.
    public static func invert(_ p: Double, start: Double = 0, _ f: (Double) -> Double) -> Double {
        var lo = start - 1
        var hi = start + 1
        while f(lo) > p && lo > -1e4 { lo = start - 2 * (start - lo) }
        while f(hi) < p && hi < 1e4 { hi = start + 2 * (hi - start) }
        for _ in 0..<200 where hi - lo > 1e-12 * max(1, abs(lo)) {
            let mid = (lo + hi) / 2
            if f(mid) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// log(1 + eˢ) without overflow.
    static func log1pExp(_ s: Double) -> Double { s > 0 ? s + log1p(exp(-s)) : log1p(exp(s)) }

    private static func betaContinuedFraction(x: Double, oneMinusX: Double, a: Double, b: Double)
        -> Double
    {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        d = 1 / (abs(d) < tiny ? tiny : d)
        var h = d
        for m in 1...200_000 {
            let m = Double(m)
            let m2 = 2 * m
            for numerator in [
                m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
            ] {
                d = 1 + numerator * d
                d = 1 / (abs(d) < tiny ? tiny : d)
                c = 1 + numerator / c
                if abs(c) < tiny { c = tiny }
                h *= d * c
            }
            if abs(d * c - 1) < 1e-15 { break }
        }
        return h
    }

    private static func gammaContinuedFraction(_ x: Double, _ a: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...200_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            d = 1 / (abs(d) < tiny ? tiny : d)
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            h *= d * c
            if abs(d * c - 1) < 1e-15 { break }
        }
        return h
    }
}
