import Foundation
import KernelInterface

// Layers with explicit forward and backward passes over row-major batches (one example per row).
// Backward passes overwrite the parameter gradients they own; each parameter is used once per pass.

/// y = x·Wᵀ + b, with W stored [out, in].
public struct Linear: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot

    /// Uniform(±1/√in) initialisation for W and b.
    public init(
        _ name: String, in inFeatures: Int, out outFeatures: Int, layout: inout ParameterLayout,
        rng: inout RandomSource
    ) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Double(inFeatures).squareRoot()
        let w = (0..<(inFeatures * outFeatures)).map { _ in Float((2 * rng.uniform() - 1) * bound) }
        let b = (0..<outFeatures).map { _ in Float((2 * rng.uniform() - 1) * bound) }
        weight = layout.add(
            "\(name).weight", shape: [outFeatures, inFeatures], role: .weight, initial: w)
        bias = layout.add("\(name).bias", shape: [outFeatures], role: .bias, initial: b)
    }

    /// y ← x·Wᵀ + b, or y ← y + x·Wᵀ + b when `accumulate`. From a few dozen rows the product
    /// runs on this thread's vector kernel, which reads W as Wᵀ.
    public func forward(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        parameters p: ParameterStore, accumulate: Bool = false
    ) {
        let w = p.value(weight)
        if rows >= Self.rowsToRepayPacking, Self.vectorKernel(n: outFeatures) {
            return VectorGemm.multiply(
                m: rows, n: outFeatures, k: inFeatures,
                a: .init(x, rowStride: inFeatures, columnStride: 1),
                b: .init(w, rowStride: 1, columnStride: inFeatures), c: y, ldc: outFeatures,
                accumulate: accumulate, bias: p.value(bias))
        }
        if rows >= Self.rowsForVectorKernel, Compute.productsOnCallingThread {
            // yᵀ = W·xᵀ: W's rows are read in place, and only x is copied into panels.
            VectorGemm.multiplyTransposed(
                m: outFeatures, n: rows, k: inFeatures,
                a: .init(w, rowStride: inFeatures, columnStride: 1),
                b: .init(x, rowStride: 1, columnStride: inFeatures), cTransposed: y,
                ldc: outFeatures, accumulate: accumulate)
            return Kernels.broadcastRows(
                p.value(bias), y, rows: rows, cols: outFeatures, accumulate: true)
        }
        Kernels.broadcastRows(
            p.value(bias), y, rows: rows, cols: outFeatures, accumulate: accumulate)
        BLAS.gemm(
            m: rows, n: outFeatures, k: inFeatures,
            a: x, lda: inFeatures, transposeA: false,
            b: w, ldb: inFeatures, transposeB: true,
            c: y, ldc: outFeatures, beta: 1)
    }

    /// Sets dW = dyᵀ·x and db = Σ dy; gradX ← dy·W (added to gradX when `accumulateGradX`).
    public func backward(
        _ x: UnsafePointer<Float>, gradY: UnsafePointer<Float>, rows: Int,
        gradX: UnsafeMutablePointer<Float>?, accumulateGradX: Bool = false,
        parameters p: ParameterStore
    ) {
        if Self.vectorKernel(n: inFeatures) {
            VectorGemm.multiply(
                m: outFeatures, n: inFeatures, k: rows,
                a: .init(gradY, rowStride: 1, columnStride: outFeatures), b: x, ldb: inFeatures,
                c: p.grad(weight), ldc: inFeatures, accumulate: false)
        } else {
            BLAS.gemm(
                m: outFeatures, n: inFeatures, k: rows,
                a: gradY, lda: outFeatures, transposeA: true,
                b: x, ldb: inFeatures, transposeB: false,
                c: p.grad(weight), ldc: inFeatures)
        }
        Kernels.columnSums(gradY, rows: rows, cols: outFeatures, into: p.grad(bias))
        guard let gradX else { return }
        if Self.vectorKernel(n: inFeatures) {
            return VectorGemm.multiply(
                m: rows, n: inFeatures, k: outFeatures,
                a: .init(gradY, rowStride: outFeatures, columnStride: 1), b: p.value(weight),
                ldb: inFeatures, c: gradX, ldc: inFeatures, accumulate: accumulateGradX)
        }
        BLAS.gemm(
            m: rows, n: inFeatures, k: outFeatures,
            a: gradY, lda: outFeatures, transposeA: false,
            b: p.value(weight), ldb: inFeatures, transposeB: false,
            c: gradX, ldc: inFeatures, beta: accumulateGradX ? 1 : 0)
    }

    /// Gathering Wᵀ into the kernel's panels costs about as much as a product over this many
    /// rows; below it, the product runs transposed (yᵀ = W·xᵀ), x gathered instead of W, and C
    /// copied across.
    static let rowsToRepayPacking = 128

    /// Below this many rows (the transposed product's columns, padded to 32), sgemm.
    static let rowsForVectorKernel = 32

    /// Products with n output columns run on the vector kernel when n allows and each thread does
    /// its own.
    static func vectorKernel(n: Int) -> Bool {
        VectorGemm.supports(n: n) && Compute.productsOnCallingThread
    }
}

/// Per-row layer normalisation with a learned scale γ and shift β.
public struct LayerNorm: Sendable {
    public let features: Int
    public let epsilon: Float
    public let scale: ParameterSlot
    public let shift: ParameterSlot

    public init(_ name: String, features: Int, epsilon: Float = 1e-5, layout: inout ParameterLayout)
    {
        self.features = features
        self.epsilon = epsilon
        scale = layout.add(
            "\(name).weight", shape: [features], role: .normScale,
            initial: .init(repeating: 1, count: features))
        shift = layout.add(
            "\(name).bias", shape: [features], role: .normShift,
            initial: .init(repeating: 0, count: features))
    }

    var shape: NormShape { NormShape(channels: features, epsilon: epsilon) }

    /// y ← γ⊙x̂ + β with x̂ = (x − mean)/√(var + ε); keeps x̂ and 1/√(var + ε) per row for
    /// backward. When `siluOut` is given, also writes silu(y) there in the same pass; y and x̂ may
    /// then be skipped (nil) when no backward pass follows.
    public func forward(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>?,
        normalized xhat: UnsafeMutablePointer<Float>?, inverseStd: UnsafeMutablePointer<Float>,
        siluOut: UnsafeMutablePointer<Float>? = nil, parameters p: ParameterStore
    ) {
        let affine = p.affine(scale: scale, shift: shift)
        CPU.kernels.layerNormForward(
            x, rows: rows, shape, affine, into: y, normalized: xhat,
            inverseStd: inverseStd, siluOut: siluOut)
    }

    /// Sets dγ, dβ; gradX ← dx (added when `accumulateGradX`).
    /// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) with dx̂ = dy⊙γ.
    /// With `throughSilu`, `gradY` is the gradient of silu(y) and dy = gradY⊙silu'(y), y = γ⊙x̂ + β
    /// recomputed.
    public func backward(
        gradY: UnsafePointer<Float>, throughSilu: Bool = false,
        normalized xhat: UnsafePointer<Float>,
        inverseStd: UnsafePointer<Float>, rows: Int,
        gradX: UnsafeMutablePointer<Float>, accumulateGradX: Bool = false,
        parameters p: ParameterStore
    ) {
        let affine = p.affine(scale: scale, shift: shift)
        CPU.kernels.layerNormBackward(
            gradY: gradY, throughSilu: throughSilu, normalized: xhat,
            inverseStd: inverseStd, rows: rows, shape, affine, gradX: gradX,
            accumulate: accumulateGradX)
    }
}

/// Sinusoidal embedding of a scalar (the noise level c_noise), as in EDM:
/// frequencies f_j = (1/10000)^(j/(C/2 − 1)), output [cos(c·f), sin(c·f)]. No parameters.
public struct SinusoidalEmbedding: Sendable {
    public let channels: Int
    public let frequencies: [Float]

    public init(channels: Int, maxPositions: Double = 10_000) {
        precondition(
            channels >= 4 && channels % 2 == 0, "embedding channels must be even and at least 4")
        self.channels = channels
        let half = channels / 2
        frequencies = (0..<half).map { Float(pow(1 / maxPositions, Double($0) / Double(half - 1))) }
    }

    public func forward(_ c: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>)
    {
        let half = channels / 2
        for r in 0..<rows {
            let o = out + r * channels
            for j in 0..<half {
                let a = c[r] * frequencies[j]
                o[j] = cosf(a)
                o[half + j] = sinf(a)
            }
        }
    }

    /// dc[r] = Σ_j dOut·∂out/∂c.
    public func backward(
        _ c: UnsafePointer<Float>, gradOut: UnsafePointer<Float>, rows: Int,
        into gradC: UnsafeMutablePointer<Float>
    ) {
        let half = channels / 2
        for r in 0..<rows {
            let g = gradOut + r * channels
            var s: Float = 0
            for j in 0..<half {
                let f = frequencies[j]
                let a = c[r] * f
                s += -g[j] * sinf(a) * f + g[half + j] * cosf(a) * f
            }
            gradC[r] = s
        }
    }
}

/// D as a second condition of one network trained over a range of D: the sinusoidal embedding of
/// c_aug = 8·N/(N + D) (finite at D = ∞, where it is 0) through a Linear (C→C), added to the
/// noise's sinusoidal embedding before the mapping layers, as a class label enters EDM's networks.
public struct AugmentedDimensionEmbedding: Sendable {
    let embedding: SinusoidalEmbedding
    let linear: Linear

    public init(channels: Int, layout: inout ParameterLayout, rng: inout RandomSource) {
        embedding = SinusoidalEmbedding(channels: channels)
        linear = Linear("map_aug", in: channels, out: channels, layout: &layout, rng: &rng)
    }

    /// The network's input for D: 8·N/(N + D), 0 at D = ∞.
    public static func feature(dim n: Int, augmentedDimension d: AugmentedDimension) -> Float {
        guard case .finite(let v) = d else { return 0 }
        return Float(8 * Double(n) / (Double(n) + v))
    }

    /// sinusoid ← sinusoid + Linear(sin(c_aug)); `kept` receives sin(c_aug) (rows × C) for
    /// backward.
    func forward(
        _ cAug: UnsafePointer<Float>, rows: Int, kept: UnsafeMutablePointer<Float>,
        into sinusoid: UnsafeMutablePointer<Float>, parameters p: ParameterStore
    ) {
        embedding.forward(cAug, rows: rows, into: kept)
        linear.forward(kept, rows: rows, into: sinusoid, parameters: p, accumulate: true)
    }

    /// Sets the Linear's gradients from dLoss/d(sinusoid).
    func backward(
        kept: UnsafePointer<Float>, gradSinusoid: UnsafePointer<Float>, rows: Int,
        parameters p: ParameterStore
    ) {
        linear.backward(kept, gradY: gradSinusoid, rows: rows, gradX: nil, parameters: p)
    }
}
