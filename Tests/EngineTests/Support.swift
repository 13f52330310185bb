import Engine
import Foundation

/// Kolmogorov–Smirnov statistic of `samples` against the continuous CDF `cdf`.
func ksStatistic(_ samples: [Double], cdf: (Double) -> Double) -> Double {
    let sorted = samples.sorted()
    let n = Double(sorted.count)
    var d = 0.0
    for (i, x) in sorted.enumerated() {
        let f = cdf(x)
        d = max(d, Double(i + 1) / n - f, f - Double(i) / n)
    }
    return d
}

/// The KS critical value at significance 0.001: 1.95/√n. With a fixed seed the statistic is a
/// fixed number; a generator off by a visible amount lands far above this bound.
func ksCritical(_ n: Int) -> Double { 1.95 / Double(n).squareRoot() }

/// Regularised lower incomplete gamma P(a, x) (checked against closed forms in
/// KernelTruncationTests).
func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
    SpecialFunctions.gammaCDF(x, shape: a)
}

func standardNormalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

func meanAndVariance(_ xs: [Double]) -> (mean: Double, variance: Double) {
    let m = xs.reduce(0, +) / Double(xs.count)
    let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
    return (m, v)
}

func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout RandomSource, scale: Float = 1) -> Matrix {
    Matrix(
        rows: rows, cols: cols,
        storage: (0..<(rows * cols)).map { _ in scale * Float(rng.normal()) })
}

/// A fresh temporary folder for one test.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "pfgm-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

/// Compares an analytic derivative with a central finite difference. Relative error |a − n| /
/// max(|a|, |n|, floor). The difference quotient of a float32 loss of size ~10 carries round-off of
/// about ε·|L|/h ≈ 1e-4 in absolute terms, so derivatives below the floor 1e-2 are compared
/// absolutely (an error of 1e-4 there reads as 1e-2 relative).
struct GradientComparison {
    var worst = 0.0
    var worstName = ""
    var checked = 0

    mutating func compare(_ name: String, analytic: Float, numeric: Double, floor: Double = 1e-2) {
        let a = Double(analytic)
        let error = abs(a - numeric) / max(abs(a), abs(numeric), floor)
        checked += 1
        if error > worst {
            worst = error
            worstName = "\(name): analytic \(a), numeric \(numeric)"
        }
    }
}

/// Central difference of `loss` with respect to the float at `p`, with step h.
/// The loss is accumulated in Double; h = 1e-2 balances float32 round-off against O(h²) truncation.
func centralDifference(_ p: UnsafeMutablePointer<Float>, h: Float = 1e-2, _ loss: () -> Double)
    -> Double
{
    let saved = p.pointee
    p.pointee = saved + h
    let plus = loss()
    p.pointee = saved - h
    let minus = loss()
    p.pointee = saved
    return (plus - minus) / Double((saved + h) - (saved - h))
}

/// Indices to check in a tensor of `count` values: all of them when few, else a seeded sample.
func sampleIndices(_ count: Int, max: Int = 24, rng: inout RandomSource) -> [Int] {
    count <= max ? Array(0..<count) : (0..<max).map { _ in rng.index(below: count) }
}

/// Regularised incomplete beta I_x(a, b) (checked against closed forms in KernelTruncationTests).
func regularizedBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    return SpecialFunctions.betaCDF(logOdds: log(x) - log1p(-x), a: a, b: b)
}

/// Polls `condition` (every 20 ms) until it holds or `seconds` pass; true when it held.
func waitUntil(_ seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { return false }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return true
}

/// Checks a whole network's gradient one tensor at a time along directions, where per-coordinate
/// checks drown in float32 round-off: each tensor's change along its own analytic gradient a/‖a‖
/// (the largest change a step of length h can make, ‖a‖·h) and along a seeded random unit direction
/// r (⟨a, r⟩), both against a five-point difference (truncation O(h⁴), so h can be large and
/// round-off is divided by a large step). The error is |numeric − analytic| / max(‖a‖, floor): a
/// wrong or missing term in a tensor's gradient moves it by its share of ‖a‖; below the floor the
/// comparison is absolute.
struct DirectionalGradientCheck {
    var worst = 0.0
    var worstName = ""
    var checked = 0
    var rng = RandomSource(seed: 99)

    mutating func check(
        _ name: String, values: UnsafeMutablePointer<Float>, analytic: [Float], h: Double = 0.05,
        floor: Double = 0.1, _ loss: () -> Double
    ) {
        let norm = analytic.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        guard norm > 0 else { return }
        let own = analytic.map { Double($0) / norm }
        var random = analytic.map { _ in rng.normal() }
        let rNorm = random.reduce(0) { $0 + $1 * $1 }.squareRoot()
        random = random.map { $0 / rNorm }
        for (label, d) in [("own", own), ("random", random)] {
            let predicted = zip(analytic, d).reduce(0.0) { $0 + Double($1.0) * $1.1 }
            let numeric = Self.fivePoint(values, direction: d, h: h, loss)
            let error = abs(numeric - predicted) / max(norm, floor)
            checked += 1
            if error > worst {
                worst = error
                worstName =
                    "\(name) (\(label)): analytic \(predicted), numeric \(numeric), ‖a‖ \(norm)"
            }
        }
    }

    /// Every parameter tensor of a network (against its gradients in the store), then each named
    /// input.
    mutating func checkNetwork(
        _ p: ParameterStore,
        inputs: [(String, UnsafeMutablePointer<Float>, [Float])], _ loss: () -> Double
    ) {
        let analytic = p.grads.array
        for slot in p.slots {
            check(
                slot.name, values: p.value(slot),
                analytic: Array(analytic[slot.offset..<(slot.offset + slot.count)]),
                loss)
        }
        for (name, values, gradient) in inputs {
            check(name, values: values, analytic: gradient, loss)
        }
    }

    /// d/dt loss(θ + t·d) at t = 0 by [f(−2h) − 8f(−h) + 8f(h) − f(2h)] / 12h.
    static func fivePoint(
        _ values: UnsafeMutablePointer<Float>, direction d: [Double], h: Double,
        _ loss: () -> Double
    ) -> Double {
        let saved = (0..<d.count).map { values[$0] }
        func at(_ t: Double) -> Double {
            for i in 0..<d.count { values[i] = Float(Double(saved[i]) + t * d[i]) }
            return loss()
        }
        let result = (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h)
        for i in 0..<d.count { values[i] = saved[i] }
        return result
    }
}
