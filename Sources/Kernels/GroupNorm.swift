import KernelInterface

/// Group normalisation over channels-last images, followed by SiLU: each image's channels are cut
/// into groups and normalised over all of that group's values in the image, then scaled and shifted
/// per channel.
enum GroupNorm {
    /// siluOut ← silu(γ⊙x̂ + β) per image; keeps x̂ (when given) and 1/σ per (image, group). Framed
    /// output writes the frame's inside only.
    static func forward(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, _ shape: NormShape, _ p: NormAffine,
        siluOut: UnsafeMutablePointer<Float>, normalized xhat: UnsafeMutablePointer<Float>?,
        inverseStd: UnsafeMutablePointer<Float>, framedOutput: Bool
    ) {
        let c = shape.channels
        let groups = shape.groups
        let hw = g.pixelsPerImage
        withChannelBuffers(c) { mean, rstd, _ in
            for image in 0..<g.images {
                let base = image * hw * c
                moments(x + base, pixels: hw, shape, mean: mean, inverseStd: rstd)
                for group in 0..<groups {
                    inverseStd[image * groups + group] = rstd[group * (c / groups)]
                }
                let plane = NormalizedImage(
                    x: x + base, xhat: xhat.map { $0 + base }, out: siluOut, g: g,
                    image: image, framed: framedOutput, channels: c, mean: mean,
                    rstd: rstd, gamma: p.gamma, beta: p.beta)
                plane.run()
            }
        }
    }

    /// Per-channel copies of each group's mean and 1/√(var + ε) for one image (two passes).
    private static func moments(
        _ x: UnsafePointer<Float>, pixels hw: Int, _ shape: NormShape,
        mean: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>
    ) {
        let c = shape.channels
        let count = Float(hw * (c / shape.groups))
        Elementwise.columnSums(x, rows: hw, cols: c, into: mean)
        spreadGroupSums(mean, shape, scale: 1 / count)
        inverseStd.update(repeating: 0, count: c)
        SquaredDeviations(x: x, pixels: hw, channels: c, mean: mean, out: inverseStd).run()
        spreadGroupSums(inverseStd, shape, scale: 1 / count)
        for ch in 0..<c { inverseStd[ch] = 1 / (inverseStd[ch] + shape.epsilon).squareRoot() }
    }

    /// Replaces each channel's value by scale × the sum over its group.
    private static func spreadGroupSums(
        _ v: UnsafeMutablePointer<Float>, _ shape: NormShape, scale: Float
    ) {
        let per = shape.channels / shape.groups
        for group in 0..<shape.groups {
            var s: Float = 0
            for ch in (group * per)..<((group + 1) * per) { s += v[ch] }
            for ch in (group * per)..<((group + 1) * per) { v[ch] = s * scale }
        }
    }

    /// Sets dγ and dβ; gradX ← dL/dx (added when `accumulate`), given dL/d silu(y) with y = γ⊙x̂ +
    /// β. Per (image, group): dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)), dx̂ = dy⊙γ, dy =
    /// gradOut⊙silu'(y).
    static func backward(
        gradOut: UnsafePointer<Float>, normalized xhat: UnsafePointer<Float>,
        inverseStd: UnsafePointer<Float>, _ g: ImageGeometry, _ shape: NormShape,
        _ p: NormAffine, gradX: UnsafeMutablePointer<Float>, accumulate: Bool,
        scratch dy: UnsafeMutablePointer<Float>
    ) {
        let c = shape.channels
        let groups = shape.groups
        let hw = g.pixelsPerImage
        let per = c / groups
        let gamma = p.gamma
        let dGamma = p.gradGamma
        let dBeta = p.gradBeta
        dGamma.update(repeating: 0, count: c)
        dBeta.update(repeating: 0, count: c)
        withChannelBuffers(c) { sumD, sumDH, rstd in
            for image in 0..<g.images {
                let base = image * hw * c
                // dy = gradOut ⊙ silu'(γx̂ + β), with per-channel sums of dy and dy⊙x̂ (dβ and dγ
                // before γ).
                let plane = GradientImage(
                    gradOut: gradOut + base, xhat: xhat + base, dy: dy + base,
                    gradX: gradX + base, pixels: hw, channels: c, gamma: gamma, beta: p.beta,
                    sumD: sumD, sumDH: sumDH, rstd: rstd, accumulate: accumulate)
                GradientImage.SiluPass(image: plane).run()
                Elementwise.add(sumD, into: dBeta, count: c)
                Elementwise.add(sumDH, into: dGamma, count: c)
                // mean(dx̂) and mean(dx̂⊙x̂) over each group, dx̂ = dy⊙γ, spread back to the
                // group's channels.
                for ch in 0..<c {
                    sumD[ch] *= gamma[ch]
                    sumDH[ch] *= gamma[ch]
                }
                spreadGroupSums(sumD, shape, scale: 1 / Float(hw * per))
                spreadGroupSums(sumDH, shape, scale: 1 / Float(hw * per))
                for ch in 0..<c { rstd[ch] = inverseStd[image * groups + ch / per] }
                GradientImage.InputPass(image: plane).run()
            }
        }
    }

    /// One image's pixels through x̂ = (x − μ)·rstd and silu(γ⊙x̂ + β), its output framed or not.
    struct NormalizedImage: LaneKernel {
        let x: UnsafePointer<Float>, xhat: UnsafeMutablePointer<Float>?,
            out: UnsafeMutablePointer<Float>
        let g: ImageGeometry, image: Int, framed: Bool, channels: Int
        let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
        let gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>

        @inline(__always)
        func output(_ q: Int) -> UnsafeMutablePointer<Float> {
            let pixel =
                framed ? g.framedPixel(image: image, pixel: q) : image * g.pixelsPerImage + q
            return out + pixel * channels
        }

        /// Every pixel's channels from `ch` in whole vectors of V; returns the first channel left.
        func vectors<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
            let end = ch + (channels - ch) / V.scalarCount * V.scalarCount
            guard end > ch else { return ch }
            for q in 0..<g.pixelsPerImage {
                let o = q * channels
                let dst = output(q)
                for k in stride(from: ch, to: end, by: V.scalarCount) {
                    let h =
                        (x.load(V.self, at: o + k) - mean.load(V.self, at: k))
                        * rstd.load(V.self, at: k)
                    xhat?.store(h, at: o + k)
                    let z = VectorMath.multiplyAdd(
                        h, gamma.load(V.self, at: k), beta.load(V.self, at: k))
                    dst.store(VectorMath.silu(z), at: k)
                }
            }
            return end
        }

        func scalars(from ch: Int) {
            guard ch < channels else { return }
            for q in 0..<g.pixelsPerImage {
                let o = q * channels
                let dst = output(q)
                for k in ch..<channels {
                    let h = (x[o + k] - mean[k]) * rstd[k]
                    xhat?[o + k] = h
                    dst[k] = Elementwise.silu(h * gamma[k] + beta[k])
                }
            }
        }
    }

    /// out[k] += Σ_q (x[q, k] − mean[k])² over an image's pixels.
    struct SquaredDeviations: LaneKernel {
        let x: UnsafePointer<Float>, pixels: Int, channels: Int
        let mean: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>

        func vectors<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
            let end = ch + (channels - ch) / V.scalarCount * V.scalarCount
            for k in stride(from: ch, to: end, by: V.scalarCount) {
                let m = mean.load(V.self, at: k)
                var sum = V()
                for q in 0..<pixels {
                    let d = x.load(V.self, at: q * channels + k) - m
                    sum = VectorMath.multiplyAdd(d, d, sum)
                }
                out.store(out.load(V.self, at: k) + sum, at: k)
            }
            return end
        }

        func scalars(from ch: Int) {
            for q in 0..<pixels {
                for k in ch..<channels {
                    let d = x[q * channels + k] - mean[k]
                    out[k] += d * d
                }
            }
        }
    }

    /// One image in the backward pass: each channel's sums held in registers over the image's
    /// pixels.
    struct GradientImage {
        let gradOut: UnsafePointer<Float>, xhat: UnsafePointer<Float>,
            dy: UnsafeMutablePointer<Float>
        let gradX: UnsafeMutablePointer<Float>, pixels: Int, channels: Int
        let gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>
        let sumD: UnsafeMutablePointer<Float>, sumDH: UnsafeMutablePointer<Float>,
            rstd: UnsafeMutablePointer<Float>
        let accumulate: Bool

        /// The two passes as kernels over the channels: dy and its sums, then dx.
        struct SiluPass: LaneKernel {
            let image: GradientImage
            func vectors<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
                image.throughSilu(V.self, from: ch)
            }
            func scalars(from ch: Int) { image.throughSiluScalars(from: ch) }
        }

        struct InputPass: LaneKernel {
            let image: GradientImage
            func vectors<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
                image.inputGradient(V.self, from: ch)
            }
            func scalars(from ch: Int) { image.inputGradientScalars(from: ch) }
        }

        /// dy = gradOut ⊙ silu'(γx̂ + β), with Σ dy and Σ dy⊙x̂ per channel, for the channels from
        /// `ch` in whole vectors of V; returns the first channel left.
        func throughSilu<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
            let end = ch + (channels - ch) / V.scalarCount * V.scalarCount
            for k in stride(from: ch, to: end, by: V.scalarCount) {
                let gm = gamma.load(V.self, at: k)
                let bt = beta.load(V.self, at: k)
                var d1 = V()
                var dh = V()
                for q in 0..<pixels {
                    let o = q * channels + k
                    let h = xhat.load(V.self, at: o)
                    let d =
                        gradOut.load(V.self, at: o)
                        * VectorMath.siluDerivative(VectorMath.multiplyAdd(h, gm, bt))
                    dy.store(d, at: o)
                    d1 += d
                    dh = VectorMath.multiplyAdd(d, h, dh)
                }
                sumD.store(d1, at: k)
                sumDH.store(dh, at: k)
            }
            return end
        }

        func throughSiluScalars(from ch: Int) {
            for k in ch..<channels {
                var d1: Float = 0
                var dh: Float = 0
                for q in 0..<pixels {
                    let o = q * channels + k
                    let h = xhat[o]
                    let d = gradOut[o] * Elementwise.siluDerivative(h * gamma[k] + beta[k])
                    dy[o] = d
                    d1 += d
                    dh += d * h
                }
                sumD[k] = d1
                sumDH[k] = dh
            }
        }

        /// dx = rstd·(dy⊙γ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) (sumD and sumDH holding the means by
        /// then), added to gradX when `accumulate`; returns the first channel left.
        func inputGradient<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
            let end = ch + (channels - ch) / V.scalarCount * V.scalarCount
            for k in stride(from: ch, to: end, by: V.scalarCount) {
                let gm = gamma.load(V.self, at: k)
                let md = sumD.load(V.self, at: k)
                let mdh = sumDH.load(V.self, at: k)
                let s = rstd.load(V.self, at: k)
                for q in 0..<pixels {
                    let o = q * channels + k
                    var d = s * (dy.load(V.self, at: o) * gm - md - xhat.load(V.self, at: o) * mdh)
                    if accumulate { d += gradX.load(V.self, at: o) }
                    gradX.store(d, at: o)
                }
            }
            return end
        }

        func inputGradientScalars(from ch: Int) {
            for k in ch..<channels {
                for q in 0..<pixels {
                    let o = q * channels + k
                    let d = rstd[k] * (dy[o] * gamma[k] - sumD[k] - xhat[o] * sumDH[k])
                    gradX[o] = accumulate ? gradX[o] + d : d
                }
            }
        }
    }

    private static func withChannelBuffers(
        _ channels: Int,
        _ body: (
            UnsafeMutablePointer<Float>,
            UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>
        ) -> Void
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * channels) { buffer in
            guard let base = buffer.baseAddress else { return }
            body(base, base + channels, base + 2 * channels)
        }
    }
}
