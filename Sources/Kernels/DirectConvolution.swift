import KernelInterface

/// The direct 3×3 convolutions (stride 1, zero padding 1) of channels-last images read in place
/// from their zero-bordered frame: each kernel keeps a block of outputs in registers while it
/// streams the taps. Output channels go 32 at a time (in passes of two `Half` vectors per pixel);
/// weights are packed [output block][tap][input channel][32] (Engine's `DirectConvolution` lays the
/// frame and the weights out).
enum DirectConvolution {
    static let lanes = 32

    // MARK: - y = conv(x) + b

    /// y[p, o] = scale·(b[o] + Σ_tap Σ_c framed[p + offset(tap), c] · W[o, c, tap]) (+ y inside the
    /// bracket when `accumulate`); image i reads its bias at bias + i·biasStride.
    static func forward(
        framed: UnsafePointer<Float>, _ g: ImageGeometry, inChannels c: Int, outChannels: Int,
        packed w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, biasStride: Int = 0,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool, scale: Float = 1
    ) {
        let rowStride = (g.width + 2) * c
        eachPixelBlock(framed: framed, g, inChannels: c, into: y, outChannels: outChannels) {
            image, src, out, width in
            for first in stride(from: 0, to: outChannels, by: RegisterBlocks.passLanes) {
                let block = first / lanes
                let lane = first % lanes
                let site = Site(
                    src: src, rowStride: rowStride, channels: c,
                    weights: w + block * 9 * c * lanes + lane,
                    bias: bias.map { $0 + image * biasStride + first },
                    out: out + first, outStride: outChannels, accumulate: accumulate, scale: scale)
                RegisterBlocks.run(ForwardKernel(site: site), size: width)
            }
        }
    }

    /// body(image, first input pixel in the frame, first output pixel, pixels) for each block of
    /// pixels of every image row.
    @inline(__always)
    static func eachPixelBlock(
        framed: UnsafePointer<Float>, _ g: ImageGeometry, inChannels c: Int,
        into y: UnsafeMutablePointer<Float>, outChannels: Int,
        _ body: (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) {
        let (fh, fw, _) = g.framed
        let rowBlocks = RegisterBlocks.cover(g.width)
        for image in 0..<g.images {
            for row in 0..<g.height {
                var x0 = 0
                for width in rowBlocks {
                    body(
                        image, framed + ((image * fh + row) * fw + x0) * c,
                        y + ((image * g.height + row) * g.width + x0) * outChannels, width)
                    x0 += width
                }
            }
        }
    }

    /// Where one block of output pixels reads and writes.
    struct Site {
        let src: UnsafePointer<Float>, rowStride: Int, channels: Int, weights: UnsafePointer<Float>
        let bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>, outStride: Int,
            accumulate: Bool
        var scale: Float = 1
    }

    /// P pixels of one pass of output lanes (the weights' rows 32 lanes apart).
    @inline(__always)
    static func forwardBlock<let P: Int>(_: Block<P>, _ s: Site) {
        let c = s.channels
        let h = Half.scalarCount
        var sums = Accumulators<P>(
            lo: s.bias.map { $0.load(Half.self, at: 0) } ?? .zero,
            hi: s.bias.map { $0.load(Half.self, at: h) } ?? .zero)
        for dy in 0..<3 {
            for dx in 0..<3 {
                let src = s.src + dy * s.rowStride + dx * c
                let w = s.weights + (dy * 3 + dx) * c * lanes
                for ci in 0..<c {
                    let w0 = w.load(Half.self, at: ci * lanes)
                    let w1 = w.load(Half.self, at: ci * lanes + h)
                    let x = src + ci
                    sums.each { p, lo, hi in
                        let v = Half(repeating: x[p &* c])
                        lo = VectorMath.multiplyAdd(w0, v, lo)
                        hi = VectorMath.multiplyAdd(w1, v, hi)
                    }
                }
            }
        }
        sums.each { p, lo, hi in
            let o = s.out + p * s.outStride
            if s.accumulate {
                lo += o.load(Half.self, at: 0)
                hi += o.load(Half.self, at: h)
            }
            if s.scale != 1 {
                lo *= s.scale
                hi *= s.scale
            }
            o.store(lo, at: 0)
            o.store(hi, at: h)
        }
    }

    // MARK: - dL/dW

    /// dW[o, c, tap] = Σ_p framed[p + offset(tap), c] · gradY[p, o], into the packed layout
    /// (overwritten).
    static func weightGradient(
        framed: UnsafePointer<Float>, gradY: UnsafePointer<Float>, _ g: ImageGeometry,
        inChannels c: Int, outChannels: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        packed.update(repeating: 0, count: outChannels * 9 * c)
        let (fh, fw, _) = g.framed
        for image in 0..<g.images {
            for first in stride(from: 0, to: outChannels, by: RegisterBlocks.passLanes) {
                let block = first / lanes
                let lane = first % lanes
                for tap in 0..<9 {
                    var c0 = 0
                    while c0 < c {
                        let count = min(RegisterBlocks.widest, c - c0)
                        let src = framed + ((image * fh + tap / 3) * fw + tap % 3) * c + c0
                        let span = Span(
                            src: src, rowStride: fw * c, channels: c,
                            gradY: gradY + image * g.pixelsPerImage * outChannels + first,
                            gradStride: outChannels, height: g.height, width: g.width,
                            out: packed + ((block * 9 + tap) * c + c0) * lanes + lane)
                        RegisterBlocks.run(WeightKernel(span: span), size: count)
                        c0 += count
                    }
                }
            }
        }
    }

    /// One image's pixels for one tap and a few input channels.
    struct Span {
        let src: UnsafePointer<Float>, rowStride: Int, channels: Int, gradY: UnsafePointer<Float>,
            gradStride: Int
        let height: Int, width: Int, out: UnsafeMutablePointer<Float>
    }

    /// K input channels of one pass of output lanes (the packed rows 32 lanes apart).
    @inline(__always)
    static func weightBlock<let K: Int>(_: Block<K>, _ s: Span) {
        let h = Half.scalarCount
        var sums = Accumulators<K>(lo: .zero, hi: .zero)
        sums.each { k, lo, hi in
            lo = s.out.load(Half.self, at: k * lanes)
            hi = s.out.load(Half.self, at: k * lanes + h)
        }
        for y in 0..<s.height {
            let src = s.src + y * s.rowStride
            let gy = s.gradY + y * s.width * s.gradStride
            for x in 0..<s.width {
                let g0 = gy.load(Half.self, at: x * s.gradStride)
                let g1 = gy.load(Half.self, at: x * s.gradStride + h)
                let v = src + x * s.channels
                sums.each { k, lo, hi in
                    let a = Half(repeating: v[k])
                    lo = VectorMath.multiplyAdd(g0, a, lo)
                    hi = VectorMath.multiplyAdd(g1, a, hi)
                }
            }
        }
        sums.each { k, lo, hi in
            s.out.store(lo, at: k * lanes)
            s.out.store(hi, at: k * lanes + h)
        }
    }

    // MARK: - Few output channels

    /// y[p, o] = b[o] + Σ_tap Σ_c framed[p + offset(tap), c] · W[o, c, tap], W in its stored order
    /// [o][c][tap] (added to y when `accumulate`).
    static func forwardNarrow(
        framed: UnsafePointer<Float>, _ g: ImageGeometry, inChannels c: Int, outChannels: Int,
        weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool,
        scratch: UnsafeMutablePointer<Float>
    ) {
        // scratch[o][tap][c] = W[o, c, tap]: each tap's channels contiguous.
        for o in 0..<outChannels {
            for ci in 0..<c {
                for tap in 0..<9 { scratch[(o * 9 + tap) * c + ci] = w[(o * c + ci) * 9 + tap] }
            }
        }
        let rowStride = (g.width + 2) * c
        eachPixelBlock(framed: framed, g, inChannels: c, into: y, outChannels: outChannels) {
            _, src, out, width in
            for o in 0..<outChannels {
                let site = Site(
                    src: src, rowStride: rowStride, channels: c, weights: scratch + o * 9 * c,
                    bias: bias + o, out: out + o, outStride: outChannels, accumulate: accumulate)
                RegisterBlocks.run(NarrowKernel(site: site), size: width)
            }
        }
    }

    /// One output channel of P pixels: a `Narrow` of input channels per register, summed across
    /// lanes at the end.
    @inline(__always)
    static func narrowBlock<let P: Int>(_: Block<P>, _ s: Site) {
        let c = s.channels
        var sums = InlineArray<P, Narrow>(repeating: .zero)
        for dy in 0..<3 {
            for dx in 0..<3 {
                let src = s.src + dy * s.rowStride + dx * c
                let w = s.weights + (dy * 3 + dx) * c
                for c0 in stride(from: 0, to: c, by: Narrow.scalarCount) {
                    let wv = w.load(Narrow.self, at: c0)
                    for p in 0..<P {
                        sums[p] = VectorMath.multiplyAdd(
                            src.load(Narrow.self, at: p * c + c0), wv, sums[p])
                    }
                }
            }
        }
        let b = s.bias?.pointee ?? 0
        for p in 0..<P {
            let o = s.out + p * s.outStride
            o.pointee = (s.accumulate ? o.pointee : 0) + b + sums[p].laneSum()
        }
    }

    /// dW[o, c, tap] = Σ_p framed[p + offset(tap), c] · gradY[p, o] for few output channels, into
    /// W's stored order (overwritten).
    static func weightGradientNarrow(
        framed: UnsafePointer<Float>, gradY: UnsafePointer<Float>, _ g: ImageGeometry,
        inChannels c: Int, outChannels: Int, into dW: UnsafeMutablePointer<Float>
    ) {
        let (fh, fw, _) = g.framed
        for o in 0..<outChannels {
            for c0 in stride(from: 0, to: c, by: Narrow.scalarCount) {
                var taps = InlineArray<9, Narrow>(repeating: .zero)
                for image in 0..<g.images {
                    for y in 0..<g.height {
                        let src = framed + ((image * fh + y) * fw) * c + c0
                        let gy = gradY + (image * g.height + y) * g.width * outChannels + o
                        for x in 0..<g.width {
                            let a = Narrow(repeating: gy[x * outChannels])
                            let v = src + x * c
                            for tap in 0..<9 {
                                let tapped = v.load(
                                    Narrow.self, at: (tap / 3) * fw * c + (tap % 3) * c)
                                taps[tap] = VectorMath.multiplyAdd(tapped, a, taps[tap])
                            }
                        }
                    }
                }
                for tap in 0..<9 {
                    for lane in 0..<Narrow.scalarCount {
                        dW[(o * c + c0 + lane) * 9 + tap] = taps[tap][lane]
                    }
                }
            }
        }
    }

    struct ForwardKernel: BlockKernel {
        let site: Site
        func callAsFunction<let P: Int>(_ block: Block<P>) {
            DirectConvolution.forwardBlock(block, site)
        }
    }

    struct NarrowKernel: BlockKernel {
        let site: Site
        func callAsFunction<let P: Int>(_ block: Block<P>) {
            DirectConvolution.narrowBlock(block, site)
        }
    }

    struct WeightKernel: BlockKernel {
        let span: Span
        func callAsFunction<let P: Int>(_ block: Block<P>) {
            DirectConvolution.weightBlock(block, span)
        }
    }
}
