import Foundation
import KernelInterface

// Image layers over channels-last batches (`ImageGeometry`).

/// Buffers a convolution reuses between calls: the zero-bordered input (or the im2col matrix) and
/// the weights in the kernel's order.
public struct ConvolutionWorkspace {
    var columns = Scratch(), packed = Scratch(), packedGrad = Scratch(), bias = Scratch()
    public init() {}
}

/// A bias added to every pixel of each image on top of the convolution's own: image i adds
/// values[i·stride ..< i·stride + out channels] (stride 0: the same for every image).
public struct ImageBias {
    public let values: UnsafePointer<Float>
    public let stride: Int

    public init(_ values: UnsafePointer<Float>, stride: Int) {
        self.values = values
        self.stride = stride
    }
}

/// How a convolution is computed: `direct` reads the images in place where the channels allow (each
/// pass — forward, dL/dW, dL/dx — on its own), `im2col` builds the patch matrix and calls sgemm
/// (any shape; the reference the direct kernels are tested against).
public enum ConvolutionPath: Sendable { case direct, im2col }

/// A 3×3 convolution, stride 1, zero padding 1: direct where the output channels allow, else im2col
/// and sgemm. W is stored [out, in, 3, 3] and repacked to the kernel's order for each call
/// (9·in·out values, cheap); the im2col columns are ordered (tap, in channel), so each tap copies a
/// contiguous run of C values.
public struct Convolution3x3: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot
    static let taps = 9

    /// Uniform(±gain/√(9·in)) for W and b.
    public init(
        _ name: String, in inChannels: Int, out outChannels: Int, gain: Double = 1,
        layout: inout ParameterLayout, rng: inout RandomSource
    ) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        let fanIn = Self.taps * inChannels
        let bound = gain / Double(fanIn).squareRoot()
        let w = (0..<(fanIn * outChannels)).map { _ in Float((2 * rng.uniform() - 1) * bound) }
        let b = (0..<outChannels).map { _ in Float((2 * rng.uniform() - 1) * bound) }
        weight = layout.add(
            "\(name).weight", shape: [outChannels, inChannels, 3, 3], role: .weight, initial: w)
        bias = layout.add("\(name).bias", shape: [outChannels], role: .bias, initial: b)
    }

    var columnsPerPixel: Int { Self.taps * inChannels }

    /// The kernel of a pass from `inputs` to `outputs` channels: 32 outputs at a time in registers,
    /// sums along the inputs for a few outputs (the forward and dL/dW only), or im2col.
    enum Kernel { case wide, narrow, im2col }

    static func kernel(
        _ path: ConvolutionPath, inputs: Int, outputs: Int, narrowAllowed: Bool = true
    ) -> Kernel {
        guard path == .direct else { return .im2col }
        if DirectConvolution.supports(outChannels: outputs) { return .wide }
        let narrow =
            narrowAllowed
            && DirectConvolution.supportsNarrow(inChannels: inputs, outChannels: outputs)
        return narrow ? .narrow : .im2col
    }

    /// Whether this convolution can take its input already framed (`inputFramed`): a zero pixel
    /// around each image, as `DirectConvolution.framed` lays it out. The direct kernels read that;
    /// im2col does not.
    public var readsFramed: Bool {
        Self.kernel(.direct, inputs: inChannels, outputs: outChannels) != .im2col
    }

    /// x framed for the direct kernels: x itself when the caller framed it, else a framed copy.
    private func framedInput(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, inputFramed: Bool,
        workspace ws: inout ConvolutionWorkspace
    ) -> UnsafePointer<Float> {
        if inputFramed { return x }
        let framed = ws.columns.pointer(g.framed.count * inChannels)
        DirectConvolution.frame(x, g, channels: inChannels, into: framed)
        return UnsafePointer(framed)
    }

    /// y ← s·(conv(x) + b + imageBias), or y ← s·(y + conv(x) + b + imageBias) when `accumulate`.
    /// With `inputFramed` (only where `readsFramed`), x is laid out framed.
    public func forward(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, into y: UnsafeMutablePointer<Float>,
        parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace,
        accumulate: Bool = false,
        imageBias: ImageBias? = nil, scale s: Float = 1, inputFramed: Bool = false,
        path: ConvolutionPath = .direct
    ) {
        let kernel = Self.kernel(path, inputs: inChannels, outputs: outChannels)
        precondition(!inputFramed || kernel != .im2col, "im2col reads unframed images")
        guard kernel == .wide else {
            if kernel == .im2col {
                forwardIm2col(x, g, into: y, parameters: p, workspace: &ws, accumulate: accumulate)
            } else {
                let framed = framedInput(x, g, inputFramed: inputFramed, workspace: &ws)
                DirectConvolution.forwardNarrow(
                    framed: framed, g, inChannels: inChannels, outChannels: outChannels,
                    weights: p.value(weight), bias: p.value(bias), into: y, accumulate: accumulate,
                    scratch: ws.packed.pointer(outChannels * columnsPerPixel))
            }
            return finish(y, g, imageBias: imageBias, scale: s)
        }
        let framed = framedInput(x, g, inputFramed: inputFramed, workspace: &ws)
        let packed = ws.packed.pointer(outChannels * columnsPerPixel)
        DirectConvolution.pack(
            p.value(weight), inChannels: inChannels, outChannels: outChannels, into: packed)
        var bias = UnsafePointer(p.value(bias))
        var stride = 0
        if let imageBias {
            let combined = ws.bias.pointer(g.images * outChannels)
            for image in 0..<g.images {
                let row = combined + image * outChannels
                row.update(from: bias, count: outChannels)
                Kernels.add(
                    imageBias.values + image * imageBias.stride, into: row, count: outChannels)
            }
            (bias, stride) = (UnsafePointer(combined), outChannels)
        }
        DirectConvolution.forward(
            framed: framed, g, inChannels: inChannels, outChannels: outChannels, packed: packed,
            bias: bias, biasStride: stride, into: y, accumulate: accumulate, scale: s)
    }

    /// The per-image bias and the scale, for the kernels that do not fold them in.
    private func finish(
        _ y: UnsafeMutablePointer<Float>, _ g: ImageGeometry, imageBias: ImageBias?, scale s: Float
    ) {
        if let imageBias {
            for image in 0..<g.images {
                let values = imageBias.values + image * imageBias.stride
                for q in 0..<g.pixelsPerImage {
                    Kernels.add(
                        values, into: y + (image * g.pixelsPerImage + q) * outChannels,
                        count: outChannels)
                }
            }
        }
        if s != 1 { for i in 0..<(g.pixels * outChannels) { y[i] *= s } }
    }

    private func forwardIm2col(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, into y: UnsafeMutablePointer<Float>,
        parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace, accumulate: Bool
    ) {
        let k = columnsPerPixel
        let columns = ws.columns.pointer(g.pixels * k)
        let packed = ws.packed.pointer(outChannels * k)
        Self.im2col(x, g, channels: inChannels, into: columns)
        pack(p.value(weight), into: packed)
        Kernels.broadcastRows(
            p.value(bias), y, rows: g.pixels, cols: outChannels, accumulate: accumulate)
        BLAS.gemm(
            m: g.pixels, n: outChannels, k: k, a: columns, lda: k, transposeA: false,
            b: packed, ldb: k, transposeB: true, c: y, ldc: outChannels, beta: 1)
    }

    /// Sets dW and db; gradX ← dL/dx (added when `accumulateGradX`). x framed as in `forward`.
    public func backward(
        _ x: UnsafePointer<Float>, gradY: UnsafePointer<Float>, _ g: ImageGeometry,
        gradX: UnsafeMutablePointer<Float>?, accumulateGradX: Bool = false,
        parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace,
        inputFramed: Bool = false, path: ConvolutionPath = .direct
    ) {
        Kernels.columnSums(gradY, rows: g.pixels, cols: outChannels, into: p.grad(bias))
        weightGradient(
            x, gradY: gradY, g, parameters: p, workspace: &ws, inputFramed: inputFramed, path: path)
        guard let gradX else { return }
        // dL/dx is itself a 3×3 convolution: of gradY at the mirrored offsets, with W transposed
        // per tap.
        guard
            Self.kernel(path, inputs: outChannels, outputs: inChannels, narrowAllowed: false)
                == .wide
        else {
            return inputGradientIm2col(
                gradY, g, gradX: gradX, accumulate: accumulateGradX, parameters: p, workspace: &ws)
        }
        let framed = ws.columns.pointer(g.framed.count * outChannels)
        let packed = ws.packed.pointer(outChannels * columnsPerPixel)
        DirectConvolution.frame(gradY, g, channels: outChannels, into: framed)
        DirectConvolution.packMirrored(
            p.value(weight), inChannels: inChannels, outChannels: outChannels, into: packed)
        DirectConvolution.forward(
            framed: framed, g, inChannels: outChannels, outChannels: inChannels, packed: packed,
            bias: nil, into: gradX, accumulate: accumulateGradX)
    }

    private func weightGradient(
        _ x: UnsafePointer<Float>, gradY: UnsafePointer<Float>, _ g: ImageGeometry,
        parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace, inputFramed: Bool,
        path: ConvolutionPath
    ) {
        let k = columnsPerPixel
        let packedGrad = ws.packedGrad.pointer(outChannels * k)
        let kernel = Self.kernel(path, inputs: inChannels, outputs: outChannels)
        precondition(!inputFramed || kernel != .im2col, "im2col reads unframed images")
        guard kernel != .im2col else {
            let columns = ws.columns.pointer(g.pixels * k)
            Self.im2col(x, g, channels: inChannels, into: columns)
            BLAS.gemm(
                m: outChannels, n: k, k: g.pixels, a: gradY, lda: outChannels, transposeA: true,
                b: columns, ldb: k, transposeB: false, c: packedGrad, ldc: k)
            return unpack(packedGrad, into: p.grad(weight))
        }
        let framed = framedInput(x, g, inputFramed: inputFramed, workspace: &ws)
        if kernel == .narrow {
            return DirectConvolution.weightGradientNarrow(
                framed: framed, gradY: gradY, g, inChannels: inChannels,
                outChannels: outChannels, into: p.grad(weight))
        }
        DirectConvolution.weightGradient(
            framed: framed, gradY: gradY, g, inChannels: inChannels,
            outChannels: outChannels, into: packedGrad)
        DirectConvolution.unpack(
            packedGrad, inChannels: inChannels, outChannels: outChannels, into: p.grad(weight))
    }

    private func inputGradientIm2col(
        _ gradY: UnsafePointer<Float>, _ g: ImageGeometry, gradX: UnsafeMutablePointer<Float>,
        accumulate: Bool, parameters p: ParameterStore, workspace ws: inout ConvolutionWorkspace
    ) {
        let kY = Self.taps * outChannels
        let columnsY = ws.columns.pointer(g.pixels * kY)
        let transposed = ws.packed.pointer(inChannels * kY)
        Self.im2col(gradY, g, channels: outChannels, into: columnsY, mirrored: true)
        packTransposed(p.value(weight), into: transposed)
        BLAS.gemm(
            m: g.pixels, n: inChannels, k: kY, a: columnsY, lda: kY, transposeA: false,
            b: transposed, ldb: kY, transposeB: true, c: gradX, ldc: inChannels,
            beta: accumulate ? 1 : 0)
    }

    /// packed[o, t·C + c] = W[o, c, t].
    private func pack(_ w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let c = inChannels
        let t = Self.taps
        for o in 0..<outChannels {
            for ci in 0..<c {
                for tap in 0..<t { packed[(o * t + tap) * c + ci] = w[(o * c + ci) * t + tap] }
            }
        }
    }

    /// transposed[c, t·O + o] = W[o, c, t]: with gradY's columns taken at the mirrored offsets,
    /// dL/dx.
    private func packTransposed(
        _ w: UnsafePointer<Float>, into transposed: UnsafeMutablePointer<Float>
    ) {
        let c = inChannels
        let o = outChannels
        let t = Self.taps
        for ci in 0..<c {
            for tap in 0..<t {
                for oi in 0..<o { transposed[(ci * t + tap) * o + oi] = w[(oi * c + ci) * t + tap] }
            }
        }
    }

    private func unpack(_ packed: UnsafePointer<Float>, into w: UnsafeMutablePointer<Float>) {
        let c = inChannels
        let t = Self.taps
        for o in 0..<outChannels {
            for ci in 0..<c {
                for tap in 0..<t { w[(o * c + ci) * t + tap] = packed[(o * t + tap) * c + ci] }
            }
        }
    }

    /// Calls body(pixel, tap, neighbour pixel or nil outside the image) for every pixel and tap.
    @inline(__always)
    static func forEachTap(
        _ g: ImageGeometry, mirrored: Bool = false, _ body: (Int, Int, Int?) -> Void
    ) {
        let sign = mirrored ? -1 : 1
        for image in 0..<g.images {
            for y in 0..<g.height {
                for x in 0..<g.width {
                    let p = (image * g.height + y) * g.width + x
                    for tap in 0..<taps {
                        let sy = y + sign * (tap / 3 - 1)
                        let sx = x + sign * (tap % 3 - 1)
                        let inside = sy >= 0 && sy < g.height && sx >= 0 && sx < g.width
                        body(p, tap, inside ? (image * g.height + sy) * g.width + sx : nil)
                    }
                }
            }
        }
    }

    /// columns[p, t·C + c] = x[neighbour_t(p), c], zero outside the image; `mirrored` takes the
    /// neighbour at the opposite offset (tap 8 − t).
    static func im2col(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
        into columns: UnsafeMutablePointer<Float>,
        mirrored: Bool = false
    ) {
        forEachTap(g, mirrored: mirrored) { p, tap, source in
            let dst = columns + (p * taps + tap) * c
            if let source {
                dst.update(from: x + source * c, count: c)
            } else {
                dst.update(repeating: 0, count: c)
            }
        }
    }
}

/// 2×2 average pooling and nearest-neighbour 2× upsampling of channels-last images, with their
/// adjoints.
public enum Resampling {
    /// out (g.halved) ← mean of each 2×2 block of x (g).
    public static func averagePool(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        let h = g.halved
        out.update(repeating: 0, count: h.pixels * c)
        eachBlockPixel(g) { fine, coarse in
            let src = x + fine * c
            let dst = out + coarse * c
            for ch in 0..<c { dst[ch] += 0.25 * src[ch] }
        }
    }

    /// gradX (g) ← ¼ gradOut (g.halved) spread over each block (added when `accumulate`).
    public static func averagePoolBackward(
        _ gradOut: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
        into gradX: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        eachBlockPixel(g) { fine, coarse in
            let src = gradOut + coarse * c
            let dst = gradX + fine * c
            for ch in 0..<c { dst[ch] = 0.25 * src[ch] + (accumulate ? dst[ch] : 0) }
        }
    }

    /// out (g) ← x (g.halved) repeated over each 2×2 block, added when `accumulate`.
    public static func upsample(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        eachBlockPixel(g) { fine, coarse in
            let src = x + coarse * c
            let dst = out + fine * c
            if accumulate {
                Kernels.add(src, into: dst, count: c)
            } else {
                dst.update(from: src, count: c)
            }
        }
    }

    /// gradX (g.halved) ← sum of gradOut (g) over each block.
    public static func upsampleBackward(
        _ gradOut: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
        into gradX: UnsafeMutablePointer<Float>
    ) {
        gradX.update(repeating: 0, count: g.halved.pixels * c)
        eachBlockPixel(g) { fine, coarse in
            Kernels.add(gradOut + fine * c, into: gradX + coarse * c, count: c)
        }
    }

    /// body(pixel in g, pixel in g.halved) for every pixel of g (g's sides must be even).
    @inline(__always)
    static func eachBlockPixel(_ g: ImageGeometry, _ body: (Int, Int) -> Void) {
        let h = g.halved
        for image in 0..<g.images {
            for y in 0..<g.height {
                for x in 0..<g.width {
                    body(
                        (image * g.height + y) * g.width + x,
                        (image * h.height + y / 2) * h.width + x / 2)
                }
            }
        }
    }
}
