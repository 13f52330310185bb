import Foundation

/// A seeded pseudo-random source: xoshiro256** (Blackman & Vigna, 2018), state filled
/// from the seed by SplitMix64. The same seed gives the same sequence on every machine.
///
/// Variates: uniform on [0, 1) with 53 random bits; standard normal by the Marsaglia polar
/// method; Gamma(k) by Marsaglia–Tsang (2000), with Gamma(k) = Gamma(k + 1)·U^(1/k) for k < 1;
/// Beta(a, b) = G_a / (G_a + G_b). Gamma variates are also available as logarithms, which stay
/// finite for tiny shapes where U^(1/k) underflows.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var z = seed
        func splitMix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    /// The full generator state, to save and restore a stream exactly.
    public var state: [UInt64] {
        [s0, s1, s2, s3, spareNormal == nil ? 0 : 1, spareNormal?.bitPattern ?? 0]
    }

    /// Restores a state saved from `state`; nil if it is malformed.
    public init?(state: [UInt64]) {
        guard state.count == 6, state[0...3].contains(where: { $0 != 0 }), state[4] <= 1 else {
            return nil
        }
        s0 = state[0]
        s1 = state[1]
        s2 = state[2]
        s3 = state[3]
        spareNormal = state[4] == 1 ? Double(bitPattern: state[5]) : nil
    }

    /// An independent stream derived from this seed and a stream number.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Uniform on [0, 1).
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform on (0, 1): never exactly 0, so its logarithm is finite.
    @inline(__always)
    public mutating func uniformOpen() -> Double { (Double(next() >> 11) + 0.5) * 0x1.0p-53 }

    /// Standard normal.
    public mutating func normal() -> Double {
        if let z = spareNormal {
            spareNormal = nil
            return z
        }
        let (a, b) = normalPair()
        spareNormal = b
        return a
    }

    @inline(__always)
    private mutating func normalPair() -> (Double, Double) {
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * Foundation.log(s) / s).squareRoot()
                return (u * f, v * f)
            }
        }
    }

    /// Fills `out` with independent N(mean, std²) draws.
    public mutating func fillNormal(
        _ out: UnsafeMutableBufferPointer<Float>, mean: Float = 0, std: Float = 1
    ) {
        var i = 0
        while i + 1 < out.count {
            let (a, b) = normalPair()
            out[i] = mean + std * Float(a)
            out[i + 1] = mean + std * Float(b)
            i += 2
        }
        if i < out.count { out[i] = mean + std * Float(normalPair().0) }
    }

    /// Natural logarithm of a Gamma(shape, 1) variate, shape > 0.
    public mutating func logGamma(shape k: Double) -> Double {
        precondition(k > 0 && k.isFinite, "Gamma shape must be positive and finite, got \(k)")
        if k < 1 {
            return logGamma(shape: k + 1) + Foundation.log(uniformOpen()) / k
        }
        let d = k - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0
            var v = 0.0
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = uniformOpen()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return Foundation.log(d) + Foundation.log(v) }
            if Foundation.log(u) < 0.5 * x2 + d * (1 - v + Foundation.log(v)) {
                return Foundation.log(d) + Foundation.log(v)
            }
        }
    }

    /// A Gamma(shape, 1) variate, shape > 0.
    public mutating func gamma(shape k: Double) -> Double { Foundation.exp(logGamma(shape: k)) }

    /// A Beta(a, b) variate, computed from two Gamma logarithms so tiny shapes do not give 0/0.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let la = logGamma(shape: a)
        let lb = logGamma(shape: b)
        return 1 / (1 + Foundation.exp(lb - la))
    }

    /// A uniform integer in 0..<n.
    public mutating func index(below n: Int) -> Int {
        precondition(n > 0, "index(below:) needs a positive bound")
        return Int(next(upperBound: UInt64(n)))
    }
}
