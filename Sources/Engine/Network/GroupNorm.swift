import Foundation

/// Group normalisation over channels-last images: each image's channels are cut into `groups` groups and
/// normalised over all of that group's values in the image, then scaled and shifted per channel.
/// The forward pass writes silu(γ⊙x̂ + β) (every use in the U-Net is followed by SiLU).
public struct GroupNorm: Sendable {
    public let channels: Int
    public let groups: Int
    public let epsilon: Float
    public let scale: ParameterSlot
    public let shift: ParameterSlot

    public init(_ name: String, channels: Int, groups: Int, epsilon: Float = 1e-5, layout: inout ParameterLayout) {
        precondition(groups >= 1 && channels % groups == 0, "channels must divide into groups")
        self.channels = channels
        self.groups = groups
        self.epsilon = epsilon
        scale = layout.add("\(name).weight", shape: [channels], role: .normScale, initial: .init(repeating: 1, count: channels))
        shift = layout.add("\(name).bias", shape: [channels], role: .normShift, initial: .init(repeating: 0, count: channels))
    }

    /// DDPM++'s choice: up to 32 groups of at least 4 channels.
    public static func groups(for channels: Int) -> Int {
        var g = max(1, min(32, channels / 4))
        while channels % g != 0 { g -= 1 }
        return g
    }

    /// siluOut ← silu(γ⊙x̂ + β); keeps x̂ (when given) and 1/σ per (image, group) for backward. With
    /// `framedOutput`, siluOut is written framed for a convolution to read in place (border zeroed).
    public func forward(_ x: UnsafePointer<Float>, _ g: ImageGeometry, siluOut: UnsafeMutablePointer<Float>,
                        normalized xhat: UnsafeMutablePointer<Float>?, inverseStd: UnsafeMutablePointer<Float>,
                        parameters p: ParameterStore, framedOutput: Bool = false) {
        let c = channels, hw = g.pixelsPerImage, gamma = p.value(scale), beta = p.value(shift)
        if framedOutput { DirectConvolution.clearBorder(siluOut, g, channels: c) }
        withChannelBuffers { mean, rstd, _ in
            for image in 0..<g.images {
                let base = image * hw * c
                moments(x + base, pixels: hw, mean: mean, inverseStd: rstd)
                for group in 0..<groups { inverseStd[image * groups + group] = rstd[group * (c / groups)] }
                let plane = NormalizedImage(x: x + base, xhat: xhat.map { $0 + base }, out: siluOut, g: g, image: image,
                                            framed: framedOutput, channels: c, mean: mean, rstd: rstd, gamma: gamma,
                                            beta: beta)
                plane.run()
            }
        }
    }

    /// Per-channel copies of each group's mean and 1/√(var + ε) for one image (two passes).
    private func moments(_ x: UnsafePointer<Float>, pixels hw: Int, mean: UnsafeMutablePointer<Float>,
                         inverseStd: UnsafeMutablePointer<Float>) {
        let c = channels, per = c / groups, count = Float(hw * per)
        Kernels.columnSums(x, rows: hw, cols: c, into: mean)
        spreadGroupSums(mean, scale: 1 / count)
        inverseStd.update(repeating: 0, count: c)
        SquaredDeviations(x: x, pixels: hw, channels: c, mean: mean, out: inverseStd).run()
        spreadGroupSums(inverseStd, scale: 1 / count)
        for ch in 0..<c { inverseStd[ch] = 1 / (inverseStd[ch] + epsilon).squareRoot() }
    }

    /// Replaces each channel's value by scale × the sum over its group.
    private func spreadGroupSums(_ v: UnsafeMutablePointer<Float>, scale: Float) {
        let per = channels / groups
        for group in 0..<groups {
            var s: Float = 0
            for ch in (group * per)..<((group + 1) * per) { s += v[ch] }
            for ch in (group * per)..<((group + 1) * per) { v[ch] = s * scale }
        }
    }

    /// Sets dγ and dβ; gradX ← dL/dx (added when `accumulateGradX`), given dL/d silu(y) with y = γ⊙x̂ + β.
    /// Per (image, group): dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)), dx̂ = dy⊙γ, dy = gradOut⊙silu'(y).
    public func backward(gradOut: UnsafePointer<Float>, normalized xhat: UnsafePointer<Float>,
                         inverseStd: UnsafePointer<Float>, _ g: ImageGeometry,
                         gradX: UnsafeMutablePointer<Float>, accumulateGradX: Bool = false,
                         parameters p: ParameterStore, scratch dy: UnsafeMutablePointer<Float>) {
        let c = channels, hw = g.pixelsPerImage, per = c / groups
        let gamma = p.value(scale), beta = p.value(shift), dGamma = p.grad(scale), dBeta = p.grad(shift)
        dGamma.update(repeating: 0, count: c)
        dBeta.update(repeating: 0, count: c)
        withChannelBuffers { sumD, sumDH, rstd in
            for image in 0..<g.images {
                let base = image * hw * c
                // dy = gradOut ⊙ silu'(γx̂ + β), with per-channel sums of dy and dy⊙x̂ (dβ and dγ before γ).
                let plane = GradientImage(gradOut: gradOut + base, xhat: xhat + base, dy: dy + base, gradX: gradX + base,
                                          pixels: hw, channels: c, gamma: gamma, beta: beta, sumD: sumD, sumDH: sumDH,
                                          rstd: rstd, accumulate: accumulateGradX)
                GradientImage.SiluPass(image: plane).run()
                Kernels.add(sumD, into: dBeta, count: c)
                Kernels.add(sumDH, into: dGamma, count: c)
                // mean(dx̂) and mean(dx̂⊙x̂) over each group, dx̂ = dy⊙γ, spread back to the group's channels.
                for ch in 0..<c { sumD[ch] *= gamma[ch]; sumDH[ch] *= gamma[ch] }
                spreadGroupSums(sumD, scale: 1 / Float(hw * per))
                spreadGroupSums(sumDH, scale: 1 / Float(hw * per))
                for ch in 0..<c { rstd[ch] = inverseStd[image * groups + ch / per] }
                GradientImage.InputPass(image: plane).run()
            }
        }
    }

    /// One image's pixels through x̂ = (x − μ)·rstd and silu(γ⊙x̂ + β), its output framed or not.
    struct NormalizedImage: LaneKernel {
        let x: UnsafePointer<Float>, xhat: UnsafeMutablePointer<Float>?, out: UnsafeMutablePointer<Float>
        let g: ImageGeometry, image: Int, framed: Bool, channels: Int
        let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
        let gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>

        @inline(__always)
        func output(_ q: Int) -> UnsafeMutablePointer<Float> {
            out + (framed ? DirectConvolution.framedPixel(g, image: image, pixel: q) : image * g.pixelsPerImage + q) * channels
        }

        /// Every pixel's channels from `ch` in whole vectors of V; returns the first channel left.
        func vectors<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
            let end = ch + (channels - ch) / V.scalarCount * V.scalarCount
            guard end > ch else { return ch }
            for q in 0..<g.pixelsPerImage {
                let o = q * channels, dst = output(q)
                for k in stride(from: ch, to: end, by: V.scalarCount) {
                    let h = (x.load(V.self, at: o + k) - mean.load(V.self, at: k)) * rstd.load(V.self, at: k)
                    xhat?.store(h, at: o + k)
                    let z = VectorMath.multiplyAdd(h, gamma.load(V.self, at: k), beta.load(V.self, at: k))
                    dst.store(VectorMath.silu(z), at: k)
                }
            }
            return end
        }

        func scalars(from ch: Int) {
            guard ch < channels else { return }
            for q in 0..<g.pixelsPerImage {
                let o = q * channels, dst = output(q)
                for k in ch..<channels {
                    let h = (x[o + k] - mean[k]) * rstd[k]
                    xhat?[o + k] = h
                    dst[k] = Kernels.silu(h * gamma[k] + beta[k])
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
                for k in ch..<channels { let d = x[q * channels + k] - mean[k]; out[k] += d * d }
            }
        }
    }

    /// One image in the backward pass: each channel's sums held in registers over the image's pixels.
    struct GradientImage {
        let gradOut: UnsafePointer<Float>, xhat: UnsafePointer<Float>, dy: UnsafeMutablePointer<Float>
        let gradX: UnsafeMutablePointer<Float>, pixels: Int, channels: Int
        let gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>
        let sumD: UnsafeMutablePointer<Float>, sumDH: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
        let accumulate: Bool

        /// The two passes as kernels over the channels: dy and its sums, then dx.
        struct SiluPass: LaneKernel {
            let image: GradientImage
            func vectors<V: FloatVector>(_: V.Type, from ch: Int) -> Int { image.throughSilu(V.self, from: ch) }
            func scalars(from ch: Int) { image.throughSiluScalars(from: ch) }
        }

        struct InputPass: LaneKernel {
            let image: GradientImage
            func vectors<V: FloatVector>(_: V.Type, from ch: Int) -> Int { image.inputGradient(V.self, from: ch) }
            func scalars(from ch: Int) { image.inputGradientScalars(from: ch) }
        }

        /// dy = gradOut ⊙ silu'(γx̂ + β), with Σ dy and Σ dy⊙x̂ per channel, for the channels from `ch` in whole
        /// vectors of V; returns the first channel left.
        func throughSilu<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
            let end = ch + (channels - ch) / V.scalarCount * V.scalarCount
            for k in stride(from: ch, to: end, by: V.scalarCount) {
                let gm = gamma.load(V.self, at: k), bt = beta.load(V.self, at: k)
                var d1 = V(), dh = V()
                for q in 0..<pixels {
                    let o = q * channels + k, h = xhat.load(V.self, at: o)
                    let d = gradOut.load(V.self, at: o) * VectorMath.siluDerivative(VectorMath.multiplyAdd(h, gm, bt))
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
                var d1: Float = 0, dh: Float = 0
                for q in 0..<pixels {
                    let o = q * channels + k, h = xhat[o]
                    let d = gradOut[o] * Kernels.siluDerivative(h * gamma[k] + beta[k])
                    dy[o] = d
                    d1 += d
                    dh += d * h
                }
                sumD[k] = d1
                sumDH[k] = dh
            }
        }

        /// dx = rstd·(dy⊙γ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) (sumD and sumDH holding the means by then), added to
        /// gradX when `accumulate`; returns the first channel left.
        func inputGradient<V: FloatVector>(_: V.Type, from ch: Int) -> Int {
            let end = ch + (channels - ch) / V.scalarCount * V.scalarCount
            for k in stride(from: ch, to: end, by: V.scalarCount) {
                let gm = gamma.load(V.self, at: k), md = sumD.load(V.self, at: k), mdh = sumDH.load(V.self, at: k)
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

    private func withChannelBuffers(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * channels) { buffer in
            guard let base = buffer.baseAddress else { return }
            body(base, base + channels, base + 2 * channels)
        }
    }
}
