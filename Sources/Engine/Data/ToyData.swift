import Foundation

/// The built-in 2-D toy distributions (the usual flow-model benchmarks) and the high-dimensional
/// manifold toy. Each draw is seeded, so a data set is a function of (name, count, seed).
public enum ToyData {
    public static let twoDimensional = [
        "checkerboard", "moons", "swissroll", "8gaussians", "rings", "pinwheel",
    ]

    public static func draw(_ name: String, count: Int, rng: inout RandomSource) -> Matrix? {
        var m = Matrix(rows: count, cols: 2)
        let point: ((inout RandomSource) -> (Double, Double))
        switch name {
        case "checkerboard": point = checkerboard
        case "moons": point = moons
        case "swissroll": point = swissroll
        case "8gaussians": point = eightGaussians
        case "rings": point = rings
        case "pinwheel": point = pinwheel
        default: return nil
        }
        for r in 0..<count {
            let (a, b) = point(&rng)
            m[r, 0] = Float(a)
            m[r, 1] = Float(b)
        }
        return m
    }

    /// Alternate unit squares of [−4, 4]².
    static func checkerboard(_ rng: inout RandomSource) -> (Double, Double) {
        let x1 = rng.uniform() * 4 - 2
        let x2 = rng.uniform() - Double(rng.index(below: 2)) * 2 + Double(Int(floor(x1)) & 1)
        return (2 * x1, 2 * x2)
    }

    /// Two interleaved half circles with noise 0.1, scaled by 2 and shifted.
    static func moons(_ rng: inout RandomSource) -> (Double, Double) {
        let t = Double.pi * rng.uniform()
        let (x, y) = rng.index(below: 2) == 0 ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
        return (2 * (x + 0.1 * rng.normal()) - 1, 2 * (y + 0.1 * rng.normal()) - 0.2)
    }

    /// The 2-D section of a swiss roll with unit noise, divided by 5.
    static func swissroll(_ rng: inout RandomSource) -> (Double, Double) {
        let t = 1.5 * Double.pi * (1 + 2 * rng.uniform())
        return ((t * cos(t) + rng.normal()) / 5, (t * sin(t) + rng.normal()) / 5)
    }

    /// Eight Gaussians (std 0.5) on a circle of radius 4, divided by √2.
    static func eightGaussians(_ rng: inout RandomSource) -> (Double, Double) {
        let k = Double(rng.index(below: 8)) * Double.pi / 4
        return (
            (4 * cos(k) + 0.5 * rng.normal()) / 1.414, (4 * sin(k) + 0.5 * rng.normal()) / 1.414
        )
    }

    /// Four concentric circles of radii 0.75…3 with noise 0.08.
    static func rings(_ rng: inout RandomSource) -> (Double, Double) {
        let radius = 0.75 * Double(1 + rng.index(below: 4))
        let t = 2 * Double.pi * rng.uniform()
        return (radius * cos(t) + 0.08 * rng.normal(), radius * sin(t) + 0.08 * rng.normal())
    }

    /// Five spiral arms.
    static func pinwheel(_ rng: inout RandomSource) -> (Double, Double) {
        let arm = Double(rng.index(below: 5)) * 2 * Double.pi / 5
        let radial = 1 + 0.3 * rng.normal()
        let tangential = 0.1 * rng.normal()
        let angle = arm + 0.25 * exp(radial)
        return (
            2 * (radial * cos(angle) - tangential * sin(angle)),
            2 * (radial * sin(angle) + tangential * cos(angle))
        )
    }

    /// Two Gaussian clusters (centres ±1 along the first latent axis, std 0.3) in a 10-dimensional
    /// subspace, embedded in N dimensions by a fixed random orthonormal map (seed independent of
    /// the draw).
    public static func manifold(dim n: Int, count: Int, rng: inout RandomSource) -> Matrix {
        let latent = min(10, n)
        let basis = orthonormalColumns(rows: n, cols: latent, seed: 0x5EED)
        var m = Matrix(rows: count, cols: n)
        var z = [Double](repeating: 0, count: latent)
        for r in 0..<count {
            for j in 0..<latent { z[j] = 0.3 * rng.normal() }
            z[0] += rng.index(below: 2) == 0 ? -1 : 1
            for i in 0..<n {
                var s = 0.0
                for j in 0..<latent { s += basis[i * latent + j] * z[j] }
                m[r, i] = Float(s)
            }
        }
        return m
    }

    /// Gram–Schmidt on seeded Gaussian columns: an n×k matrix (row-major) with orthonormal columns.
    static func orthonormalColumns(rows n: Int, cols k: Int, seed: UInt64) -> [Double] {
        var rng = RandomSource(seed: seed)
        var columns: [[Double]] = []
        while columns.count < k {
            var v = (0..<n).map { _ in rng.normal() }
            for c in columns {
                let d = zip(v, c).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<n { v[i] -= d * c[i] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-6 { columns.append(v.map { $0 / norm }) }
        }
        var out = [Double](repeating: 0, count: n * k)
        for i in 0..<n { for j in 0..<k { out[i * k + j] = columns[j][i] } }
        return out
    }
}
