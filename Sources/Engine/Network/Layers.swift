import Foundation

// Layers with explicit forward and backward passes over row-major batches (one example per row).
// Backward passes overwrite the parameter gradients they own; each parameter is used once per pass.

/// y = x·Wᵀ + b, with W stored [out, in].
public struct Linear: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot

    /// Uniform(±1/√in) initialisation for W and b.
    public init(_ name: String, in inFeatures: Int, out outFeatures: Int, layout: inout ParameterLayout, rng: inout RandomSource) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Double(inFeatures).squareRoot()
        let w = (0..<(inFeatures * outFeatures)).map { _ in Float((2 * rng.uniform() - 1) * bound) }
        let b = (0..<outFeatures).map { _ in Float((2 * rng.uniform() - 1) * bound) }
        weight = layout.add("\(name).weight", shape: [outFeatures, inFeatures], role: .weight, initial: w)
        bias = layout.add("\(name).bias", shape: [outFeatures], role: .bias, initial: b)
    }

    /// y ← x·Wᵀ + b, or y ← y + x·Wᵀ + b when `accumulate`.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                        parameters p: ParameterStore, accumulate: Bool = false) {
        Kernels.broadcastRows(p.value(bias), y, rows: rows, cols: outFeatures, accumulate: accumulate)
        BLAS.gemm(m: rows, n: outFeatures, k: inFeatures,
                  a: x, lda: inFeatures, transposeA: false,
                  b: p.value(weight), ldb: inFeatures, transposeB: true,
                  c: y, ldc: outFeatures, beta: 1)
    }

    /// Sets dW = dyᵀ·x and db = Σ dy; gradX ← dy·W (added to gradX when `accumulateGradX`).
    public func backward(_ x: UnsafePointer<Float>, gradY: UnsafePointer<Float>, rows: Int,
                         gradX: UnsafeMutablePointer<Float>?, accumulateGradX: Bool = false,
                         parameters p: ParameterStore) {
        BLAS.gemm(m: outFeatures, n: inFeatures, k: rows,
                  a: gradY, lda: outFeatures, transposeA: true,
                  b: x, ldb: inFeatures, transposeB: false,
                  c: p.grad(weight), ldc: inFeatures)
        Kernels.columnSums(gradY, rows: rows, cols: outFeatures, into: p.grad(bias))
        if let gradX {
            BLAS.gemm(m: rows, n: inFeatures, k: outFeatures,
                      a: gradY, lda: outFeatures, transposeA: false,
                      b: p.value(weight), ldb: inFeatures, transposeB: false,
                      c: gradX, ldc: inFeatures, beta: accumulateGradX ? 1 : 0)
        }
    }
}

/// Per-row layer normalisation with a learned scale γ and shift β.
public struct LayerNorm: Sendable {
    public let features: Int
    public let epsilon: Float
    public let scale: ParameterSlot
    public let shift: ParameterSlot

    public init(_ name: String, features: Int, epsilon: Float = 1e-5, layout: inout ParameterLayout) {
        self.features = features
        self.epsilon = epsilon
        scale = layout.add("\(name).weight", shape: [features], role: .normScale, initial: .init(repeating: 1, count: features))
        shift = layout.add("\(name).bias", shape: [features], role: .normShift, initial: .init(repeating: 0, count: features))
    }

    /// y ← γ⊙x̂ + β with x̂ = (x − mean)/√(var + ε); keeps x̂ and 1/√(var + ε) per row for backward.
    /// When `siluOut` is given, also writes silu(y) there in the same pass.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                        normalized xhat: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>,
                        siluOut: UnsafeMutablePointer<Float>? = nil, parameters p: ParameterStore) {
        let n = features, gamma = p.value(scale), beta = p.value(shift)
        for r in 0..<rows {
            let xr = x + r * n, yr = y + r * n, hr = xhat + r * n
            var mean: Float = 0
            for c in 0..<n { mean += xr[c] }
            mean /= Float(n)
            var variance: Float = 0
            for c in 0..<n { let d = xr[c] - mean; variance += d * d }
            variance /= Float(n)
            let rstd = 1 / (variance + epsilon).squareRoot()
            inverseStd[r] = rstd
            for c in 0..<n {
                let h = (xr[c] - mean) * rstd
                hr[c] = h
                yr[c] = h * gamma[c] + beta[c]
            }
            if let siluOut {
                let sr = siluOut + r * n
                for c in 0..<n { sr[c] = Kernels.silu(yr[c]) }
            }
        }
    }

    /// Sets dγ, dβ; gradX ← dx (added when `accumulateGradX`).
    /// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) with dx̂ = dy⊙γ.
    public func backward(gradY: UnsafePointer<Float>, normalized xhat: UnsafePointer<Float>,
                         inverseStd: UnsafePointer<Float>, rows: Int,
                         gradX: UnsafeMutablePointer<Float>, accumulateGradX: Bool = false,
                         parameters p: ParameterStore) {
        let n = features, gamma = p.value(scale)
        let dGamma = p.grad(scale), dBeta = p.grad(shift)
        dGamma.update(repeating: 0, count: n)
        dBeta.update(repeating: 0, count: n)
        let invN = 1 / Float(n)
        for r in 0..<rows {
            let gy = gradY + r * n, hr = xhat + r * n, gx = gradX + r * n
            var sumG: Float = 0, sumGH: Float = 0
            for c in 0..<n {
                let g = gy[c] * gamma[c]
                sumG += g
                sumGH += g * hr[c]
                dGamma[c] += gy[c] * hr[c]
                dBeta[c] += gy[c]
            }
            let meanG = sumG * invN, meanGH = sumGH * invN, rstd = inverseStd[r]
            for c in 0..<n {
                let d = rstd * (gy[c] * gamma[c] - meanG - hr[c] * meanGH)
                gx[c] = accumulateGradX ? gx[c] + d : d
            }
        }
    }
}

/// Sinusoidal embedding of a scalar (the noise level c_noise), as in EDM:
/// frequencies f_j = (1/10000)^(j/(C/2 − 1)), output [cos(c·f), sin(c·f)]. No parameters.
public struct SinusoidalEmbedding: Sendable {
    public let channels: Int
    public let frequencies: [Float]

    public init(channels: Int, maxPositions: Double = 10_000) {
        precondition(channels >= 4 && channels % 2 == 0, "embedding channels must be even and at least 4")
        self.channels = channels
        let half = channels / 2
        frequencies = (0..<half).map { Float(pow(1 / maxPositions, Double($0) / Double(half - 1))) }
    }

    public func forward(_ c: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
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
    public func backward(_ c: UnsafePointer<Float>, gradOut: UnsafePointer<Float>, rows: Int,
                         into gradC: UnsafeMutablePointer<Float>) {
        let half = channels / 2
        for r in 0..<rows {
            let g = gradOut + r * channels
            var s: Float = 0
            for j in 0..<half {
                let f = frequencies[j], a = c[r] * f
                s += -g[j] * sinf(a) * f + g[half + j] * cosf(a) * f
            }
            gradC[r] = s
        }
    }
}
