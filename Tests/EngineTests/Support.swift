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

/// Regularised lower incomplete gamma P(a, x) (checked against closed forms in KernelTruncationTests).
func regularizedGammaP(_ a: Double, _ x: Double) -> Double { SpecialFunctions.gammaCDF(x, shape: a) }

func standardNormalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

func meanAndVariance(_ xs: [Double]) -> (mean: Double, variance: Double) {
    let m = xs.reduce(0, +) / Double(xs.count)
    let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
    return (m, v)
}

func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout RandomSource, scale: Float = 1) -> Matrix {
    Matrix(rows: rows, cols: cols, storage: (0..<(rows * cols)).map { _ in scale * Float(rng.normal()) })
}

/// A fresh temporary folder for one test.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "pfgm-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// Compares an analytic derivative with a central finite difference.
/// Relative error |a − n| / max(|a|, |n|, floor). The difference quotient of a float32 loss of size
/// ~10 carries round-off of about ε·|L|/h ≈ 1e-4 in absolute terms, so derivatives below the floor 1e-2
/// are compared absolutely (an error of 1e-4 there reads as 1e-2 relative).
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
func centralDifference(_ p: UnsafeMutablePointer<Float>, h: Float = 1e-2, _ loss: () -> Double) -> Double {
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
