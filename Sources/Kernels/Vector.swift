/// Eight floats at a time for the element-wise kernels; the scalar tails use the same formulas.
typealias Vec8 = SIMD8<Float>
/// Sixteen: one AVX-512 register, and the register-blocked kernels' unit (two per 32 output
/// channels).
typealias Vec16 = SIMD16<Float>

extension UnsafePointer where Pointee == Float {
    @inline(__always)
    func vec(_ i: Int) -> Vec8 { UnsafeRawPointer(self + i).loadUnaligned(as: Vec8.self) }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always)
    func vec(_ i: Int) -> Vec8 { UnsafeRawPointer(self + i).loadUnaligned(as: Vec8.self) }

    @inline(__always)
    func store(_ v: Vec8, at i: Int) {
        UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: Vec8.self)
    }
}

/// Loads and stores of any float vector (8 or 16 lanes) at an offset.
extension UnsafePointer where Pointee == Float {
    @inline(__always)
    func load<V: SIMD>(_: V.Type, at i: Int) -> V where V.Scalar == Float {
        UnsafeRawPointer(self + i).loadUnaligned(as: V.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always)
    func load<V: SIMD>(_: V.Type, at i: Int) -> V where V.Scalar == Float {
        UnsafeRawPointer(self + i).loadUnaligned(as: V.self)
    }

    @inline(__always)
    func store<V: SIMD>(_ v: V, at i: Int) where V.Scalar == Float {
        UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: V.self)
    }
}

extension SIMD where Scalar == Float {
    /// Σ of the lanes, always inlined into this variant's code. The standard library's `sum()` can
    /// stay out of line as a specialization named without the module, which each variant would emit
    /// under the same name for the linker to keep one of: AVX code reached from the baseline
    /// variant (scripts/check-cpus finds such symbols).
    @inline(__always)
    func laneSum() -> Float {
        var s: Float = 0
        for i in 0..<scalarCount { s += self[i] }
        return s
    }
}

/// A float vector of 8 or 16 lanes. Comparisons go through the concrete types: generic code would
/// get the lane-by-lane fallbacks of `SIMD`'s masks.
protocol FloatVector: SIMD where Scalar == Float {
    /// Each lane clamped to [low, high].
    func clamped(_ low: Float, _ high: Float) -> Self
}

extension SIMD8: FloatVector where Scalar == Float {
    @inline(__always)
    func clamped(_ low: Float, _ high: Float) -> Self {
        var x = self
        x.replace(with: Self(repeating: low), where: x .< low)
        x.replace(with: Self(repeating: high), where: x .> high)
        return x
    }
}

extension SIMD4: FloatVector where Scalar == Float {
    @inline(__always)
    func clamped(_ low: Float, _ high: Float) -> Self {
        var x = self
        x.replace(with: Self(repeating: low), where: x .< low)
        x.replace(with: Self(repeating: high), where: x .> high)
        return x
    }
}

extension SIMD16: FloatVector where Scalar == Float {
    @inline(__always)
    func clamped(_ low: Float, _ high: Float) -> Self {
        var x = self
        x.replace(with: Self(repeating: low), where: x .< low)
        x.replace(with: Self(repeating: high), where: x .> high)
        return x
    }
}

/// A pass over a run of channels: `vectors` takes them from `ch` in whole vectors of V and returns
/// the first channel left, `scalars` the rest one by one.
protocol LaneKernel {
    func vectors<V: FloatVector>(_: V.Type, from ch: Int) -> Int
    func scalars(from ch: Int)
}

extension LaneKernel {
    /// Sixteen lanes at a time in the AVX-512 variant, then eight, then one.
    @inline(__always)
    func run() {
        var ch = 0
        #if AVX512
            ch = vectors(Vec16.self, from: ch)
        #endif
        ch = vectors(Vec8.self, from: ch)
        scalars(from: ch)
    }
}

/// The vector functions for any lane count (8 or 16).
enum VectorMath {
    /// a·b + c, fused into one rounding where the variant has FMA (Package.swift defines FMA for
    /// it, and arm64 always has it); elsewhere a multiply and an add, since a fused one would be
    /// emulated lane by lane.
    @inline(__always)
    static func multiplyAdd<V: FloatVector>(_ a: V, _ b: V, _ c: V) -> V {
        #if FMA || arch(arm64)
            c.addingProduct(a, b)
        #else
            a * b + c
        #endif
    }

    /// eˣ per lane: 2ⁿ·p(r) with x = n·ln2 + r, |r| ≤ ln2/2, p a degree-7 polynomial
    /// (relative error below 2e-7); x is clamped to [−87.3, 88.3] so 2ⁿ stays a normal float.
    @inline(__always)
    static func exp<V: FloatVector>(_ x: V) -> V {
        let x = x.clamped(-87.3, 88.3)
        // Adding 1.5·2²³ rounds to an integer n held in the low bits: bits(n + 1.5·2²³) =
        // 0x4B40_0000 + n.
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = (x - n * 0.693_359_375) - n * -2.121_944_4e-4
        var p = V(repeating: 1.987_569_15e-4)
        p = multiplyAdd(p, r, V(repeating: 1.398_199_95e-3))
        p = multiplyAdd(p, r, V(repeating: 8.333_451_9e-3))
        p = multiplyAdd(p, r, V(repeating: 4.166_579_59e-2))
        p = multiplyAdd(p, r, V(repeating: 0.166_666_655))
        p = multiplyAdd(p, r, V(repeating: 0.500_000_01))
        p = multiplyAdd(p, r * r, r + 1)
        let exponent = (unsafeBitCast(shifted, to: V.MaskStorage.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: V.self)
    }

    /// silu(z) = z·σ(z).
    @inline(__always)
    static func silu<V: FloatVector>(_ z: V) -> V { z / (1 + exp(-z)) }

    /// silu'(z) = σ(z)·(1 + z·(1 − σ(z))).
    @inline(__always)
    static func siluDerivative<V: FloatVector>(_ z: V) -> V {
        let s = 1 / (1 + exp(-z))
        return s * (1 + z * (1 - s))
    }
}
