import Foundation

// Image layers over channels-last batches: one row per pixel, pixel p = (image·H + y)·W + x, C values per row.

/// The geometry of a channels-last batch of images.
public struct ImageGeometry: Sendable, Equatable {
    public let images: Int
    public let height: Int
    public let width: Int

    public init(images: Int, height: Int, width: Int) {
        self.images = images
        self.height = height
        self.width = width
    }

    public var pixelsPerImage: Int { height * width }
    public var pixels: Int { images * height * width }
    /// Half the height and width (average pooling 2×2).
    public var halved: ImageGeometry { ImageGeometry(images: images, height: height / 2, width: width / 2) }
}

/// Buffers a convolution reuses between calls: the zero-bordered input (or the im2col matrix) and the
/// weights in the kernel's order.
public struct ConvolutionWorkspace {
    var columns = Scratch(), packed = Scratch(), packedGrad = Scratch()
    public init() {}
}

/// How a convolution is computed: `direct` reads the images in place (output channels in multiples of 32),
/// `im2col` builds the patch matrix and calls sgemm (any shape; the reference the direct one is tested against).
/// Each pass (forward, dL/dW, dL/dx) takes the direct kernel where its output channels allow.
public enum ConvolutionPath: Sendable {
    case direct, im2col

    /// `direct` where it applies to a pass writing `outChannels` channels; im2col otherwise.
    func applied(outChannels: Int) -> ConvolutionPath {
        DirectConvolution.supports(outChannels: outChannels) ? self : .im2col
    }
}

/// A 3×3 convolution, stride 1, zero padding 1: direct where the output channels allow, else im2col and sgemm.
/// W is stored [out, in, 3, 3] and repacked to the kernel's order for each call (9·in·out values, cheap);
/// the im2col columns are ordered (tap, in channel), so each tap copies a contiguous run of C values.
public struct Convolution3x3: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot
    static let taps = 9

    /// Uniform(±gain/√(9·in)) for W and b.
    public init(_ name: String, in inChannels: Int, out outChannels: Int, gain: Double = 1,
                layout: inout ParameterLayout, rng: inout RandomSource) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        let fanIn = Self.taps * inChannels, bound = gain / Double(fanIn).squareRoot()
        let w = (0..<(fanIn * outChannels)).map { _ in Float((2 * rng.uniform() - 1) * bound) }
        let b = (0..<outChannels).map { _ in Float((2 * rng.uniform() - 1) * bound) }
        weight = layout.add("\(name).weight", shape: [outChannels, inChannels, 3, 3], role: .weight, initial: w)
        bias = layout.add("\(name).bias", shape: [outChannels], role: .bias, initial: b)
    }

    var columnsPerPixel: Int { Self.taps * inChannels }

    /// y ← conv(x) + b, or y ← y + conv(x) + b when `accumulate`.
    public func forward(_ x: UnsafePointer<Float>, _ g: ImageGeometry, into y: UnsafeMutablePointer<Float>,
                        parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace, accumulate: Bool = false,
                        path: ConvolutionPath = .direct) {
        guard path.applied(outChannels: outChannels) == .direct else {
            return forwardIm2col(x, g, into: y, parameters: p, workspace: &ws, accumulate: accumulate)
        }
        let framed = ws.columns.pointer(DirectConvolution.framed(g).count * inChannels)
        let packed = ws.packed.pointer(outChannels * columnsPerPixel)
        DirectConvolution.frame(x, g, channels: inChannels, into: framed)
        DirectConvolution.pack(p.value(weight), inChannels: inChannels, outChannels: outChannels, into: packed)
        DirectConvolution.forward(framed: framed, g, inChannels: inChannels, outChannels: outChannels, packed: packed,
                                  bias: p.value(bias), into: y, accumulate: accumulate)
    }

    private func forwardIm2col(_ x: UnsafePointer<Float>, _ g: ImageGeometry, into y: UnsafeMutablePointer<Float>,
                               parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace, accumulate: Bool) {
        let k = columnsPerPixel
        let columns = ws.columns.pointer(g.pixels * k), packed = ws.packed.pointer(outChannels * k)
        Self.im2col(x, g, channels: inChannels, into: columns)
        pack(p.value(weight), into: packed)
        Kernels.broadcastRows(p.value(bias), y, rows: g.pixels, cols: outChannels, accumulate: accumulate)
        BLAS.gemm(m: g.pixels, n: outChannels, k: k, a: columns, lda: k, transposeA: false,
                  b: packed, ldb: k, transposeB: true, c: y, ldc: outChannels, beta: 1)
    }

    /// Sets dW and db; gradX ← dL/dx (added when `accumulateGradX`).
    public func backward(_ x: UnsafePointer<Float>, gradY: UnsafePointer<Float>, _ g: ImageGeometry,
                         gradX: UnsafeMutablePointer<Float>?, accumulateGradX: Bool = false,
                         parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace,
                         path: ConvolutionPath = .direct) {
        Kernels.columnSums(gradY, rows: g.pixels, cols: outChannels, into: p.grad(bias))
        weightGradient(x, gradY: gradY, g, parameters: p, workspace: &ws, path: path.applied(outChannels: outChannels))
        guard let gradX else { return }
        // dL/dx is itself a 3×3 convolution: of gradY at the mirrored offsets, with W transposed per tap.
        guard path.applied(outChannels: inChannels) == .direct else {
            return inputGradientIm2col(gradY, g, gradX: gradX, accumulate: accumulateGradX, parameters: p, workspace: &ws)
        }
        let framed = ws.columns.pointer(DirectConvolution.framed(g).count * outChannels)
        let packed = ws.packed.pointer(outChannels * columnsPerPixel)
        DirectConvolution.frame(gradY, g, channels: outChannels, into: framed)
        DirectConvolution.packMirrored(p.value(weight), inChannels: inChannels, outChannels: outChannels, into: packed)
        DirectConvolution.forward(framed: framed, g, inChannels: outChannels, outChannels: inChannels, packed: packed,
                                  bias: nil, into: gradX, accumulate: accumulateGradX)
    }

    private func weightGradient(_ x: UnsafePointer<Float>, gradY: UnsafePointer<Float>, _ g: ImageGeometry,
                                parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace, path: ConvolutionPath) {
        let k = columnsPerPixel, packedGrad = ws.packedGrad.pointer(outChannels * k)
        if path == .direct {
            let framed = ws.columns.pointer(DirectConvolution.framed(g).count * inChannels)
            DirectConvolution.frame(x, g, channels: inChannels, into: framed)
            DirectConvolution.weightGradient(framed: framed, gradY: gradY, g, inChannels: inChannels,
                                             outChannels: outChannels, into: packedGrad)
            return DirectConvolution.unpack(packedGrad, inChannels: inChannels, outChannels: outChannels, into: p.grad(weight))
        }
        let columns = ws.columns.pointer(g.pixels * k)
        Self.im2col(x, g, channels: inChannels, into: columns)
        BLAS.gemm(m: outChannels, n: k, k: g.pixels, a: gradY, lda: outChannels, transposeA: true,
                  b: columns, ldb: k, transposeB: false, c: packedGrad, ldc: k)
        unpack(packedGrad, into: p.grad(weight))
    }

    private func inputGradientIm2col(_ gradY: UnsafePointer<Float>, _ g: ImageGeometry, gradX: UnsafeMutablePointer<Float>,
                                     accumulate: Bool, parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace) {
        let kY = Self.taps * outChannels
        let columnsY = ws.columns.pointer(g.pixels * kY), transposed = ws.packed.pointer(inChannels * kY)
        Self.im2col(gradY, g, channels: outChannels, into: columnsY, mirrored: true)
        packTransposed(p.value(weight), into: transposed)
        BLAS.gemm(m: g.pixels, n: inChannels, k: kY, a: columnsY, lda: kY, transposeA: false,
                  b: transposed, ldb: kY, transposeB: true, c: gradX, ldc: inChannels, beta: accumulate ? 1 : 0)
    }

    /// packed[o, t·C + c] = W[o, c, t].
    private func pack(_ w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let c = inChannels, t = Self.taps
        for o in 0..<outChannels {
            for ci in 0..<c { for tap in 0..<t { packed[(o * t + tap) * c + ci] = w[(o * c + ci) * t + tap] } }
        }
    }

    /// transposed[c, t·O + o] = W[o, c, t]: with gradY's columns taken at the mirrored offsets, dL/dx.
    private func packTransposed(_ w: UnsafePointer<Float>, into transposed: UnsafeMutablePointer<Float>) {
        let c = inChannels, o = outChannels, t = Self.taps
        for ci in 0..<c {
            for tap in 0..<t { for oi in 0..<o { transposed[(ci * t + tap) * o + oi] = w[(oi * c + ci) * t + tap] } }
        }
    }

    private func unpack(_ packed: UnsafePointer<Float>, into w: UnsafeMutablePointer<Float>) {
        let c = inChannels, t = Self.taps
        for o in 0..<outChannels {
            for ci in 0..<c { for tap in 0..<t { w[(o * c + ci) * t + tap] = packed[(o * t + tap) * c + ci] } }
        }
    }

    /// Calls body(pixel, tap, neighbour pixel or nil outside the image) for every pixel and tap.
    @inline(__always)
    static func forEachTap(_ g: ImageGeometry, mirrored: Bool = false, _ body: (Int, Int, Int?) -> Void) {
        let sign = mirrored ? -1 : 1
        for image in 0..<g.images {
            for y in 0..<g.height {
                for x in 0..<g.width {
                    let p = (image * g.height + y) * g.width + x
                    for tap in 0..<taps {
                        let sy = y + sign * (tap / 3 - 1), sx = x + sign * (tap % 3 - 1)
                        let inside = sy >= 0 && sy < g.height && sx >= 0 && sx < g.width
                        body(p, tap, inside ? (image * g.height + sy) * g.width + sx : nil)
                    }
                }
            }
        }
    }

    /// columns[p, t·C + c] = x[neighbour_t(p), c], zero outside the image; `mirrored` takes the neighbour
    /// at the opposite offset (tap 8 − t).
    static func im2col(_ x: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int, into columns: UnsafeMutablePointer<Float>,
                       mirrored: Bool = false) {
        forEachTap(g, mirrored: mirrored) { p, tap, source in
            let dst = columns + (p * taps + tap) * c
            if let source { dst.update(from: x + source * c, count: c) } else { dst.update(repeating: 0, count: c) }
        }
    }
}

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

    /// siluOut ← silu(γ⊙x̂ + β); keeps x̂ (when given) and 1/σ per (image, group) for backward.
    public func forward(_ x: UnsafePointer<Float>, _ g: ImageGeometry, siluOut: UnsafeMutablePointer<Float>,
                        normalized xhat: UnsafeMutablePointer<Float>?, inverseStd: UnsafeMutablePointer<Float>,
                        parameters p: ParameterStore) {
        let c = channels, hw = g.pixelsPerImage, gamma = p.value(scale), beta = p.value(shift)
        withChannelBuffers { mean, rstd, _ in
            for image in 0..<g.images {
                let base = image * hw * c
                moments(x + base, pixels: hw, mean: mean, inverseStd: rstd)
                for group in 0..<groups { inverseStd[image * groups + group] = rstd[group * (c / groups)] }
                for q in 0..<hw {
                    let o = base + q * c
                    var ch = 0
                    while ch + 8 <= c {
                        let h = (x.vec(o + ch) - mean.vec(ch)) * rstd.vec(ch)
                        xhat?.store(h, at: o + ch)
                        siluOut.store(VectorMath.silu(VectorMath.multiplyAdd(h, gamma.vec(ch), beta.vec(ch))), at: o + ch)
                        ch += 8
                    }
                    while ch < c {
                        let h = (x[o + ch] - mean[ch]) * rstd[ch]
                        xhat?[o + ch] = h
                        siluOut[o + ch] = Kernels.silu(h * gamma[ch] + beta[ch])
                        ch += 1
                    }
                }
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
        for q in 0..<hw {
            let row = x + q * c
            var ch = 0
            while ch + 8 <= c {
                let d = row.vec(ch) - mean.vec(ch)
                inverseStd.store(VectorMath.multiplyAdd(d, d, inverseStd.vec(ch)), at: ch)
                ch += 8
            }
            while ch < c { let d = row[ch] - mean[ch]; inverseStd[ch] += d * d; ch += 1 }
        }
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
                sumD.update(repeating: 0, count: c)
                sumDH.update(repeating: 0, count: c)
                // dy = gradOut ⊙ silu'(γx̂ + β), with per-channel sums of dy and dy⊙x̂ (dβ and dγ before γ).
                for q in 0..<hw {
                    let o = base + q * c
                    var ch = 0
                    while ch + 8 <= c {
                        let h = xhat.vec(o + ch)
                        let d = gradOut.vec(o + ch) * VectorMath.siluDerivative(VectorMath.multiplyAdd(h, gamma.vec(ch), beta.vec(ch)))
                        dy.store(d, at: o + ch)
                        sumD.store(sumD.vec(ch) + d, at: ch)
                        sumDH.store(VectorMath.multiplyAdd(d, h, sumDH.vec(ch)), at: ch)
                        ch += 8
                    }
                    while ch < c {
                        let h = xhat[o + ch], d = gradOut[o + ch] * Kernels.siluDerivative(h * gamma[ch] + beta[ch])
                        dy[o + ch] = d
                        sumD[ch] += d
                        sumDH[ch] += d * h
                        ch += 1
                    }
                }
                Kernels.add(sumD, into: dBeta, count: c)
                Kernels.add(sumDH, into: dGamma, count: c)
                // mean(dx̂) and mean(dx̂⊙x̂) over each group, dx̂ = dy⊙γ, spread back to the group's channels.
                for ch in 0..<c { sumD[ch] *= gamma[ch]; sumDH[ch] *= gamma[ch] }
                spreadGroupSums(sumD, scale: 1 / Float(hw * per))
                spreadGroupSums(sumDH, scale: 1 / Float(hw * per))
                for ch in 0..<c { rstd[ch] = inverseStd[image * groups + ch / per] }
                for q in 0..<hw {
                    let o = base + q * c
                    var ch = 0
                    while ch + 8 <= c {
                        var d = rstd.vec(ch) * (dy.vec(o + ch) * gamma.vec(ch) - sumD.vec(ch) - xhat.vec(o + ch) * sumDH.vec(ch))
                        if accumulateGradX { d += gradX.vec(o + ch) }
                        gradX.store(d, at: o + ch)
                        ch += 8
                    }
                    while ch < c {
                        let d = rstd[ch] * (dy[o + ch] * gamma[ch] - sumD[ch] - xhat[o + ch] * sumDH[ch])
                        gradX[o + ch] = accumulateGradX ? gradX[o + ch] + d : d
                        ch += 1
                    }
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

/// 2×2 average pooling and nearest-neighbour 2× upsampling of channels-last images, with their adjoints.
public enum Resampling {
    /// out (g.halved) ← mean of each 2×2 block of x (g).
    public static func averagePool(_ x: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
                                   into out: UnsafeMutablePointer<Float>) {
        let h = g.halved
        out.update(repeating: 0, count: h.pixels * c)
        eachBlockPixel(g) { fine, coarse in
            let src = x + fine * c, dst = out + coarse * c
            for ch in 0..<c { dst[ch] += 0.25 * src[ch] }
        }
    }

    /// gradX (g) ← ¼ gradOut (g.halved) spread over each block (added when `accumulate`).
    public static func averagePoolBackward(_ gradOut: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
                                           into gradX: UnsafeMutablePointer<Float>, accumulate: Bool) {
        eachBlockPixel(g) { fine, coarse in
            let src = gradOut + coarse * c, dst = gradX + fine * c
            for ch in 0..<c { dst[ch] = 0.25 * src[ch] + (accumulate ? dst[ch] : 0) }
        }
    }

    /// out (g) ← x (g.halved) repeated over each 2×2 block, added when `accumulate`.
    public static func upsample(_ x: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
                                into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        eachBlockPixel(g) { fine, coarse in
            let src = x + coarse * c, dst = out + fine * c
            if accumulate { Kernels.add(src, into: dst, count: c) } else { dst.update(from: src, count: c) }
        }
    }

    /// gradX (g.halved) ← sum of gradOut (g) over each block.
    public static func upsampleBackward(_ gradOut: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
                                        into gradX: UnsafeMutablePointer<Float>) {
        gradX.update(repeating: 0, count: g.halved.pixels * c)
        eachBlockPixel(g) { fine, coarse in Kernels.add(gradOut + fine * c, into: gradX + coarse * c, count: c) }
    }

    /// body(pixel in g, pixel in g.halved) for every pixel of g (g's sides must be even).
    @inline(__always)
    static func eachBlockPixel(_ g: ImageGeometry, _ body: (Int, Int) -> Void) {
        let h = g.halved
        for image in 0..<g.images {
            for y in 0..<g.height {
                for x in 0..<g.width {
                    body((image * g.height + y) * g.width + x, (image * h.height + y / 2) * h.width + x / 2)
                }
            }
        }
    }
}
