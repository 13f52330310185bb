/// Eight floats at a time for the element-wise kernels; the scalar tails use the same formulas.
public typealias Vec8 = SIMD8<Float>

extension UnsafePointer where Pointee == Float {
    @inline(__always)
    func vec(_ i: Int) -> Vec8 { UnsafeRawPointer(self + i).loadUnaligned(as: Vec8.self) }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always)
    func vec(_ i: Int) -> Vec8 { UnsafeRawPointer(self + i).loadUnaligned(as: Vec8.self) }

    @inline(__always)
    func store(_ v: Vec8, at i: Int) { UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: Vec8.self) }
}

public enum VectorMath {
    /// a·b + c, fused into one rounding where the build targets FMA (Package.swift defines FMA then);
    /// elsewhere a multiply and an add, since a fused one would be emulated lane by lane.
    @inline(__always)
    public static func multiplyAdd(_ a: Vec8, _ b: Vec8, _ c: Vec8) -> Vec8 {
        #if FMA
        c.addingProduct(a, b)
        #else
        a * b + c
        #endif
    }

    /// eˣ for eight lanes: 2ⁿ·p(r) with x = n·ln2 + r, |r| ≤ ln2/2, p a degree-7 polynomial
    /// (relative error below 2e-7); x is clamped to [−87.3, 88.3] so 2ⁿ stays a normal float.
    @inline(__always)
    public static func exp(_ x: Vec8) -> Vec8 {
        var x = x
        x.replace(with: Vec8(repeating: -87.3), where: x .< -87.3)
        x.replace(with: Vec8(repeating: 88.3), where: x .> 88.3)
        // Adding 1.5·2²³ rounds to an integer n held in the low bits: bits(n + 1.5·2²³) = 0x4B40_0000 + n.
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = (x - n * 0.693_359_375) - n * -2.121_944_4e-4
        var p = Vec8(repeating: 1.987_569_15e-4)
        p = multiplyAdd(p, r, Vec8(repeating: 1.398_199_95e-3))
        p = multiplyAdd(p, r, Vec8(repeating: 8.333_451_9e-3))
        p = multiplyAdd(p, r, Vec8(repeating: 4.166_579_59e-2))
        p = multiplyAdd(p, r, Vec8(repeating: 0.166_666_655))
        p = multiplyAdd(p, r, Vec8(repeating: 0.500_000_01))
        p = multiplyAdd(p, r * r, r + 1)
        let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: Vec8.self)
    }

    /// silu(z) = z·σ(z).
    @inline(__always)
    public static func silu(_ z: Vec8) -> Vec8 { z / (1 + exp(-z)) }

    /// silu'(z) = σ(z)·(1 + z·(1 − σ(z))).
    @inline(__always)
    public static func siluDerivative(_ z: Vec8) -> Vec8 {
        let s = 1 / (1 + exp(-z))
        return s * (1 + z * (1 - s))
    }
}
