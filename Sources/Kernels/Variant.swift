import KernelInterface

/// This compilation of the kernels: Package.swift builds these sources once per instruction set,
/// defining AVX512 and FMA for the widest, FMA for AVX2, and neither for the baseline.
public enum Variant: CPUKernels {
    #if AVX512
        public static let name = "avx512"
    #elseif FMA
        public static let name = "avx2"
    #else
        public static let name = "generic"
    #endif

    public static func silu(
        _ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int
    ) {
        Elementwise.silu(z, out, count: count)
    }

    public static func siluBackward(
        _ z: UnsafePointer<Float>, _ gradOut: UnsafePointer<Float>,
        _ gradZ: UnsafeMutablePointer<Float>, count: Int
    ) {
        Elementwise.siluBackward(z, gradOut, gradZ, count: count)
    }

    public static func exp(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int
    ) {
        Elementwise.exp(x, out, count: count)
    }

    public static func add(
        _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        Elementwise.add(x, into: y, count: count)
    }

    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Elementwise.sum(x, count: count)
    }

    public static func columnSums(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        Elementwise.columnSums(x, rows: rows, cols: cols, into: out)
    }

    public static func rowSquaredNorms(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        Elementwise.rowSquaredNorms(x, rows: rows, cols: cols, into: out)
    }

    public static func broadcastRows(
        _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int,
        cols: Int, accumulate: Bool
    ) {
        Elementwise.broadcastRows(bias, y, rows: rows, cols: cols, accumulate: accumulate)
    }

    public static func adam(_ s: AdamStep, _ state: AdamBuffers, range: Range<Int>) {
        Adam.update(s, state, range: range)
    }

    public static func vectorGemm(
        m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: ProductOutput,
        accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        VectorGemm.multiply(
            VectorGemm.Product(
                m: m, n: n, k: k, a: a, b: b, c: c, accumulate: accumulate, bias: bias))
    }

    public static func convolutionForward(
        framed: UnsafePointer<Float>, _ g: ImageGeometry, inChannels: Int,
        outChannels: Int, packed: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, biasStride: Int,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool, scale: Float
    ) {
        DirectConvolution.forward(
            framed: framed, g, inChannels: inChannels, outChannels: outChannels,
            packed: packed, bias: bias, biasStride: biasStride, into: y,
            accumulate: accumulate, scale: scale)
    }

    public static func convolutionWeightGradient(
        framed: UnsafePointer<Float>, gradY: UnsafePointer<Float>,
        _ g: ImageGeometry, inChannels: Int, outChannels: Int,
        into packed: UnsafeMutablePointer<Float>
    ) {
        DirectConvolution.weightGradient(
            framed: framed, gradY: gradY, g, inChannels: inChannels,
            outChannels: outChannels, into: packed)
    }

    public static func convolutionForwardNarrow(
        framed: UnsafePointer<Float>, _ g: ImageGeometry,
        inChannels: Int, outChannels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool,
        scratch: UnsafeMutablePointer<Float>
    ) {
        DirectConvolution.forwardNarrow(
            framed: framed, g, inChannels: inChannels, outChannels: outChannels,
            weights: weights, bias: bias, into: y, accumulate: accumulate,
            scratch: scratch)
    }

    public static func convolutionWeightGradientNarrow(
        framed: UnsafePointer<Float>, gradY: UnsafePointer<Float>,
        _ g: ImageGeometry, inChannels: Int, outChannels: Int,
        into dW: UnsafeMutablePointer<Float>
    ) {
        DirectConvolution.weightGradientNarrow(
            framed: framed, gradY: gradY, g, inChannels: inChannels,
            outChannels: outChannels, into: dW)
    }

    public static func groupNormForward(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, _ shape: NormShape,
        _ affine: NormAffine, siluOut: UnsafeMutablePointer<Float>,
        normalized xhat: UnsafeMutablePointer<Float>?,
        inverseStd: UnsafeMutablePointer<Float>, framedOutput: Bool
    ) {
        GroupNorm.forward(
            x, g, shape, affine, siluOut: siluOut, normalized: xhat, inverseStd: inverseStd,
            framedOutput: framedOutput)
    }

    public static func groupNormBackward(
        gradOut: UnsafePointer<Float>, normalized xhat: UnsafePointer<Float>,
        inverseStd: UnsafePointer<Float>, _ g: ImageGeometry,
        _ shape: NormShape, _ affine: NormAffine,
        gradX: UnsafeMutablePointer<Float>, accumulate: Bool,
        scratch: UnsafeMutablePointer<Float>
    ) {
        GroupNorm.backward(
            gradOut: gradOut, normalized: xhat, inverseStd: inverseStd, g, shape, affine,
            gradX: gradX, accumulate: accumulate, scratch: scratch)
    }

    public static func layerNormForward(
        _ x: UnsafePointer<Float>, rows: Int, _ shape: NormShape,
        _ affine: NormAffine, into y: UnsafeMutablePointer<Float>?,
        normalized xhat: UnsafeMutablePointer<Float>?,
        inverseStd: UnsafeMutablePointer<Float>,
        siluOut: UnsafeMutablePointer<Float>?
    ) {
        LayerNorm.forward(
            x, rows: rows, shape, affine, into: y, normalized: xhat, inverseStd: inverseStd,
            siluOut: siluOut)
    }

    public static func layerNormBackward(
        gradY: UnsafePointer<Float>, throughSilu: Bool,
        normalized xhat: UnsafePointer<Float>,
        inverseStd: UnsafePointer<Float>, rows: Int, _ shape: NormShape,
        _ affine: NormAffine, gradX: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        LayerNorm.backward(
            gradY: gradY, throughSilu: throughSilu, normalized: xhat, inverseStd: inverseStd,
            rows: rows, shape, affine, gradX: gradX, accumulateGradX: accumulate)
    }

    public static func fmaPeak(iterations: Int) -> Float {
        Elementwise.fmaPeak(iterations: iterations)
    }

    public static var fmaPeakFlops: Int { Elementwise.fmaPeakFlops }
}
