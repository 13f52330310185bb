import KernelInterface

/// Per-row layer normalisation with a learned scale γ and shift β.
enum LayerNorm {
    /// y ← γ⊙x̂ + β with x̂ = (x − mean)/√(var + ε); keeps x̂ and 1/√(var + ε) per row for
    /// backward. When `siluOut` is given, also writes silu(y) there in the same pass; y and x̂ may
    /// then be skipped (nil) when no backward pass follows.
    static func forward(
        _ x: UnsafePointer<Float>, rows: Int, _ shape: NormShape, _ p: NormAffine,
        into y: UnsafeMutablePointer<Float>?, normalized xhat: UnsafeMutablePointer<Float>?,
        inverseStd: UnsafeMutablePointer<Float>, siluOut: UnsafeMutablePointer<Float>?
    ) {
        let n = shape.channels
        let gamma = p.gamma
        let beta = p.beta
        for r in 0..<rows {
            let xr = x + r * n
            let o = r * n
            let (mean, rstd) = moments(xr, shape)
            inverseStd[r] = rstd
            let row = NormalizedRow(
                x: xr, xhat: xhat.map { $0 + o }, y: y.map { $0 + o },
                siluOut: siluOut.map { $0 + o },
                gamma: gamma, beta: beta, mean: mean, rstd: rstd)
            var c = 0
            #if AVX512
                c = row.normalize(Vec16.self, from: c, to: n)
            #endif
            c = row.normalize(Vec8.self, from: c, to: n)
            while c < n {
                let h = (xr[c] - mean) * rstd
                let out = h * gamma[c] + beta[c]
                xhat?[o + c] = h
                y?[o + c] = out
                siluOut?[o + c] = Elementwise.silu(out)
                c += 1
            }
        }
    }

    /// Mean and 1/√(var + ε) of one row (two passes: the variance never cancels).
    @inline(__always)
    private static func moments(
        _ xr: UnsafePointer<Float>, _ shape: NormShape
    ) -> (mean: Float, inverseStd: Float) {
        let n = shape.channels
        let mean = Elementwise.sum(xr, count: n) / Float(n)
        var variance: Float = 0
        var c = 0
        #if AVX512
            c = Self.squaredDeviations(Vec16.self, xr, mean: mean, from: c, to: n, &variance)
        #endif
        c = Self.squaredDeviations(Vec8.self, xr, mean: mean, from: c, to: n, &variance)
        while c < n {
            let d = xr[c] - mean
            variance += d * d
            c += 1
        }
        variance /= Float(n)
        return (mean, 1 / (variance + shape.epsilon).squareRoot())
    }

    /// Sets dγ, dβ; gradX ← dx (added when `accumulateGradX`).
    /// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) with dx̂ = dy⊙γ.
    /// With `throughSilu`, `gradY` is the gradient of silu(y) and dy = gradY⊙silu'(y), y = γ⊙x̂ + β
    /// recomputed.
    static func backward(
        gradY: UnsafePointer<Float>, throughSilu: Bool, normalized xhat: UnsafePointer<Float>,
        inverseStd: UnsafePointer<Float>, rows: Int, _ shape: NormShape, _ p: NormAffine,
        gradX: UnsafeMutablePointer<Float>, accumulateGradX: Bool
    ) {
        let n = shape.channels
        p.gradGamma.update(repeating: 0, count: n)
        p.gradBeta.update(repeating: 0, count: n)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer in
            guard let dy = buffer.baseAddress else { return }
            for r in 0..<rows {
                let o = r * n
                let (meanG, meanGH) = rowGradients(
                    gradY + o, throughSilu: throughSilu, xhat + o, into: dy, shape, p)
                let gx = gradX + o
                let hr = xhat + o
                let gamma = p.gamma
                let rstd = inverseStd[r]
                let row = InputGradientRow(
                    dy: dy, xhat: hr, gamma: gamma, meanG: meanG, meanGH: meanGH, rstd: rstd,
                    gradX: gx, accumulate: accumulateGradX)
                var c = 0
                #if AVX512
                    c = row.apply(Vec16.self, from: c, to: n)
                #endif
                c = row.apply(Vec8.self, from: c, to: n)
                while c < n {
                    let d = rstd * (dy[c] * gamma[c] - meanG - hr[c] * meanGH)
                    gx[c] = accumulateGradX ? gx[c] + d : d
                    c += 1
                }
            }
        }
    }

    /// One row's dy (into `dy`), its contribution to dγ and dβ, and mean(dx̂), mean(dx̂⊙x̂).
    @inline(__always)
    private static func rowGradients(
        _ gy: UnsafePointer<Float>, throughSilu: Bool, _ hr: UnsafePointer<Float>,
        into dy: UnsafeMutablePointer<Float>, _ shape: NormShape,
        _ p: NormAffine
    ) -> (Float, Float) {
        let n = shape.channels
        let gamma = p.gamma
        let beta = p.beta
        let dGamma = p.gradGamma
        let dBeta = p.gradBeta
        let row = GradientRow(
            gradY: gy, xhat: hr, dy: dy, gamma: gamma, beta: beta, dGamma: dGamma, dBeta: dBeta,
            throughSilu: throughSilu)
        var sG: Float = 0
        var sGH: Float = 0
        var c = 0
        #if AVX512
            c = row.accumulate(Vec16.self, from: c, to: n, &sG, &sGH)
        #endif
        c = row.accumulate(Vec8.self, from: c, to: n, &sG, &sGH)
        while c < n {
            var g0 = gy[c]
            if throughSilu { g0 *= Elementwise.siluDerivative(hr[c] * gamma[c] + beta[c]) }
            dy[c] = g0
            let g = g0 * gamma[c]
            sG += g
            sGH += g * hr[c]
            dGamma[c] += g0 * hr[c]
            dBeta[c] += g0
            c += 1
        }
        let invN = 1 / Float(n)
        return (sG * invN, sGH * invN)
    }

    /// Adds Σ (x − mean)² over whole vectors of V from channel c; returns the first channel left.
    @inline(__always)
    static func squaredDeviations<V: FloatVector>(
        _: V.Type, _ x: UnsafePointer<Float>, mean: Float, from c: Int, to n: Int,
        _ total: inout Float
    ) -> Int {
        var acc = V()
        var c = c
        while c + V.scalarCount <= n {
            let d = x.load(V.self, at: c) - V(repeating: mean)
            acc = VectorMath.multiplyAdd(d, d, acc)
            c += V.scalarCount
        }
        total += acc.laneSum()
        return c
    }

    /// One row through x̂ = (x − mean)·rstd, y = γ⊙x̂ + β and silu(y).
    struct NormalizedRow {
        let x: UnsafePointer<Float>, xhat: UnsafeMutablePointer<Float>?,
            y: UnsafeMutablePointer<Float>?
        let siluOut: UnsafeMutablePointer<Float>?, gamma: UnsafeMutablePointer<Float>,
            beta: UnsafeMutablePointer<Float>
        let mean: Float, rstd: Float

        @inline(__always)
        func normalize<V: FloatVector>(_: V.Type, from c: Int, to n: Int) -> Int {
            var c = c
            while c + V.scalarCount <= n {
                let h = (x.load(V.self, at: c) - V(repeating: mean)) * V(repeating: rstd)
                let out = VectorMath.multiplyAdd(
                    h, gamma.load(V.self, at: c), beta.load(V.self, at: c))
                xhat?.store(h, at: c)
                y?.store(out, at: c)
                siluOut?.store(VectorMath.silu(out), at: c)
                c += V.scalarCount
            }
            return c
        }
    }

    /// One row's dy, its dγ and dβ, and the sums of dx̂ and dx̂⊙x̂.
    struct GradientRow {
        let gradY: UnsafePointer<Float>, xhat: UnsafePointer<Float>, dy: UnsafeMutablePointer<Float>
        let gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>
        let dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
            throughSilu: Bool

        @inline(__always)
        func accumulate<V: FloatVector>(
            _: V.Type, from c: Int, to n: Int, _ sumG: inout Float, _ sumGH: inout Float
        ) -> Int {
            var g1 = V()
            var gh = V()
            var c = c
            while c + V.scalarCount <= n {
                let h = xhat.load(V.self, at: c)
                let gm = gamma.load(V.self, at: c)
                var g0 = gradY.load(V.self, at: c)
                if throughSilu {
                    g0 *= VectorMath.siluDerivative(
                        VectorMath.multiplyAdd(h, gm, beta.load(V.self, at: c)))
                }
                dy.store(g0, at: c)
                let g = g0 * gm
                g1 += g
                gh = VectorMath.multiplyAdd(g, h, gh)
                dGamma.store(VectorMath.multiplyAdd(g0, h, dGamma.load(V.self, at: c)), at: c)
                dBeta.store(dBeta.load(V.self, at: c) + g0, at: c)
                c += V.scalarCount
            }
            sumG += g1.laneSum()
            sumGH += gh.laneSum()
            return c
        }
    }

    /// dx = rstd·(dy⊙γ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) for one row, added to gradX when
    /// `accumulate`.
    struct InputGradientRow {
        let dy: UnsafeMutablePointer<Float>, xhat: UnsafePointer<Float>,
            gamma: UnsafeMutablePointer<Float>
        let meanG: Float, meanGH: Float, rstd: Float, gradX: UnsafeMutablePointer<Float>,
            accumulate: Bool

        @inline(__always)
        func apply<V: FloatVector>(_: V.Type, from c: Int, to n: Int) -> Int {
            var c = c
            while c + V.scalarCount <= n {
                let centred =
                    dy.load(V.self, at: c) * gamma.load(V.self, at: c) - V(repeating: meanG)
                    - xhat.load(V.self, at: c) * V(repeating: meanGH)
                var d = V(repeating: rstd) * centred
                if accumulate { d += gradX.load(V.self, at: c) }
                gradX.store(d, at: c)
                c += V.scalarCount
            }
            return c
        }
    }
}
