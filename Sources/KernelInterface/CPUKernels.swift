/// The hot loops of training and sampling. Their code lives once, in `Sources/Kernels`, and is
/// compiled three times: `KernelsAVX512` (AVX-512F/VL with FMA), `KernelsAVX2` (AVX2 with FMA) and
/// `KernelsGeneric` (the architecture's baseline: SSE2 on x86-64, NEON on arm64). The engine picks
/// one when it starts, from what the CPU reports (`CPU` in Engine), so one binary runs on every CPU
/// of its architecture.
///
/// Every requirement works on raw buffers the caller owns; results match between variants to
/// float32 round-off (the FMA variants fuse multiply-adds, the generic one rounds twice).
public protocol CPUKernels: Sendable {
    /// The variant's name: "avx512", "avx2" or "generic".
    static var name: String { get }

    // MARK: Element-wise passes and reductions

    /// out ← silu(z) = z·σ(z).
    static func silu(_ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int)
    /// gradZ ← gradOut ⊙ silu'(z) (gradZ may be gradOut).
    static func siluBackward(
        _ z: UnsafePointer<Float>, _ gradOut: UnsafePointer<Float>,
        _ gradZ: UnsafeMutablePointer<Float>, count: Int)
    /// out ← eˣ through the vector polynomial the SiLU passes use (for tests).
    static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int)
    /// y ← y + x.
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int)
    /// Σ x, eight partial sums at a time.
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float
    /// out[c] ← Σ_r x[r, c].
    static func columnSums(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>)
    /// out[r] ← ‖x[r, ·]‖².
    static func rowSquaredNorms(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>)
    /// Every row of y ← bias (+ y when `accumulate`).
    static func broadcastRows(
        _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        accumulate: Bool)
    /// One Adam step over `range` with g = g₁ (+ g₂), then the EMA a ← d·a + (1 − d)·θ when
    /// `average` is given.
    static func adam(_ s: AdamStep, _ state: AdamBuffers, range: Range<Int>)

    /// Twelve independent multiply-add chains in the widest registers, `iterations` times (the
    /// core's peak; a sum is returned so the work is kept), and the floating-point operations of
    /// one iteration.
    static func fmaPeak(iterations: Int) -> Float
    static var fmaPeakFlops: Int { get }

    // MARK: Products

    /// C(i, j) = Σ_k A(i, k)·B(k, j) + bias[j] (+ C when `accumulate`) on this thread. n is a
    /// multiple of 32 unless C is written transposed, which takes any n and no bias.
    static func vectorGemm(
        m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: ProductOutput,
        accumulate: Bool, bias: UnsafePointer<Float>?)

    // MARK: 3×3 convolutions over framed channels-last images

    /// y[p, o] = scale·(b[o] + Σ_tap Σ_c framed[p + offset(tap), c]·W[o, c, tap] (+ y when
    /// `accumulate`)), W packed [o / 32][tap][c][o mod 32], out channels a multiple of 32; image
    /// i's bias at bias + i·biasStride.
    static func convolutionForward(
        framed: UnsafePointer<Float>, _ g: ImageGeometry, inChannels: Int,
        outChannels: Int, packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        biasStride: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
        scale: Float)
    /// dW[o, c, tap] = Σ_p framed[p + offset(tap), c]·gradY[p, o], into the packed layout
    /// (overwritten).
    static func convolutionWeightGradient(
        framed: UnsafePointer<Float>, gradY: UnsafePointer<Float>,
        _ g: ImageGeometry, inChannels: Int, outChannels: Int,
        into packed: UnsafeMutablePointer<Float>)
    /// The forward for fewer than 32 outputs over inputs in 16s, W in its stored order [o][c][tap];
    /// `scratch` holds 9·in·out floats.
    static func convolutionForwardNarrow(
        framed: UnsafePointer<Float>, _ g: ImageGeometry, inChannels: Int,
        outChannels: Int, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
        accumulate: Bool, scratch: UnsafeMutablePointer<Float>)
    /// dW for fewer than 32 outputs, into W's stored order (overwritten).
    static func convolutionWeightGradientNarrow(
        framed: UnsafePointer<Float>, gradY: UnsafePointer<Float>,
        _ g: ImageGeometry, inChannels: Int, outChannels: Int,
        into dW: UnsafeMutablePointer<Float>)

    // MARK: Normalisations followed by SiLU

    /// Group normalisation of each image: siluOut ← silu(γ⊙x̂ + β) (framed when `framedOutput`, the
    /// border zeroed), x̂ kept when given, 1/σ per (image, group) into inverseStd.
    static func groupNormForward(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, _ shape: NormShape,
        _ affine: NormAffine, siluOut: UnsafeMutablePointer<Float>,
        normalized xhat: UnsafeMutablePointer<Float>?,
        inverseStd: UnsafeMutablePointer<Float>, framedOutput: Bool)
    /// Sets dγ, dβ and gradX (added when `accumulate`) from dL/d silu(y); `scratch` holds one
    /// image's values per pixel and channel times the images.
    static func groupNormBackward(
        gradOut: UnsafePointer<Float>, normalized xhat: UnsafePointer<Float>,
        inverseStd: UnsafePointer<Float>, _ g: ImageGeometry, _ shape: NormShape,
        _ affine: NormAffine, gradX: UnsafeMutablePointer<Float>, accumulate: Bool,
        scratch: UnsafeMutablePointer<Float>)
    /// Layer normalisation of each row: y ← γ⊙x̂ + β, silu(y) into siluOut when given; x̂ and 1/σ
    /// kept.
    static func layerNormForward(
        _ x: UnsafePointer<Float>, rows: Int, _ shape: NormShape, _ affine: NormAffine,
        into y: UnsafeMutablePointer<Float>?, normalized xhat: UnsafeMutablePointer<Float>?,
        inverseStd: UnsafeMutablePointer<Float>, siluOut: UnsafeMutablePointer<Float>?)
    /// Sets dγ, dβ and gradX (added when `accumulate`); with `throughSilu`, gradY is dL/d silu(y).
    static func layerNormBackward(
        gradY: UnsafePointer<Float>, throughSilu: Bool,
        normalized xhat: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
        rows: Int, _ shape: NormShape, _ affine: NormAffine,
        gradX: UnsafeMutablePointer<Float>, accumulate: Bool)
}

/// The channels (or features) a normalisation covers, cut into groups (1 for layer normalisation).
public struct NormShape: Sendable {
    public let channels: Int, groups: Int, epsilon: Float

    @inlinable
    public init(channels: Int, groups: Int = 1, epsilon: Float) {
        self.channels = channels
        self.groups = groups
        self.epsilon = epsilon
    }
}

/// A normalisation's per-channel scale γ and shift β, and their gradients.
public struct NormAffine {
    public let gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>
    public let gradGamma: UnsafeMutablePointer<Float>, gradBeta: UnsafeMutablePointer<Float>

    @inlinable
    public init(
        gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>,
        gradGamma: UnsafeMutablePointer<Float>, gradBeta: UnsafeMutablePointer<Float>
    ) {
        self.gamma = gamma
        self.beta = beta
        self.gradGamma = gradGamma
        self.gradBeta = gradBeta
    }
}

/// One Adam step's bias-corrected coefficients.
public struct AdamStep: Sendable {
    public let stepSize: Float, rootCorrection2: Float, beta1: Float, beta2: Float, epsilon: Float

    @inlinable
    public init(stepSize: Float, rootCorrection2: Float, beta1: Float, beta2: Float, epsilon: Float)
    {
        self.stepSize = stepSize
        self.rootCorrection2 = rootCorrection2
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }
}

/// What one Adam pass reads and writes: weights θ, moments m and v, the gradient g₁ (+ g₂), and the
/// EMA a with decay d.
public struct AdamBuffers {
    public let weights: UnsafeMutablePointer<Float>, first: UnsafeMutablePointer<Float>
    public let second: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>
    public let otherGradient: UnsafeMutablePointer<Float>?
    public let average: UnsafeMutablePointer<Float>?, decay: Float

    @inlinable
    public init(
        weights: UnsafeMutablePointer<Float>, first: UnsafeMutablePointer<Float>,
        second: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>,
        otherGradient: UnsafeMutablePointer<Float>?, average: UnsafeMutablePointer<Float>?,
        decay: Float
    ) {
        self.weights = weights
        self.first = first
        self.second = second
        self.gradient = gradient
        self.otherGradient = otherGradient
        self.average = average
        self.decay = decay
    }
}
