/// Shape of the MLP-EDM denoiser network F_θ.
public struct MLPEDMConfig: Sendable, Codable, Equatable {
    public var dim: Int
    public var width: Int
    public var depth: Int
    public var embeddingChannels: Int
    /// Whether D is a second condition (one network over a range of D).
    public var conditionsOnAugmentedDimension = false

    public init(
        dim: Int, width: Int, depth: Int, embeddingChannels: Int = 128,
        conditionsOnAugmentedDimension: Bool = false
    ) {
        self.dim = dim
        self.width = width
        self.depth = depth
        self.embeddingChannels = embeddingChannels
        self.conditionsOnAugmentedDimension = conditionsOnAugmentedDimension
    }

    /// The benchmark configurations of the design: `toy` and `image-mlp`.
    public static let toy = MLPEDMConfig(dim: 2, width: 256, depth: 4)
    public static let imageMLP = MLPEDMConfig(dim: 784, width: 1024, depth: 4)

    /// The network's parameter count, known before anything is allocated (checked against the built
    /// network).
    public var parameterCount: Int {
        let w = width
        let c = embeddingChannels
        let linear = { (i: Int, o: Int) in i * o + o }
        return linear(c, w) + linear(w, w) + linear(dim, w) + depth * (2 * w + linear(w, w)) + 2 * w
            + linear(w, dim) + (conditionsOnAugmentedDimension ? linear(c, c) : 0)
    }
}

/// The MLP-EDM network F_θ(x_in, c_noise[, c_aug]):
///   emb = Linear(W→W)(SiLU(Linear(C→W)(sinusoidal(c_noise) [+ Linear(C→C)(sinusoidal(c_aug))])))
///   h = Linear(N→W)(x_in) + emb
///   h ← h + Linear(W→W)(SiLU(LayerNorm(h)))   (L times)
///   F = Linear(W→N)(SiLU(LayerNorm(h)))
/// `forward` keeps what `backward` needs in workspaces that are reused from call to call.
public final class MLPEDM: DenoiserNetwork {
    public let config: MLPEDMConfig
    public var parameters: ParameterStore {
        willSet {
            precondition(
                newValue.slots == parameters.slots, "parameter layout differs from the network's")
        }
    }

    let embedding: SinusoidalEmbedding
    let embeddingIn: Linear
    let embeddingOut: Linear
    let input: Linear
    let blockNorms: [LayerNorm]
    let blockLinears: [Linear]
    let outputNorm: LayerNorm
    let output: Linear
    let augmented: AugmentedDimensionEmbedding?
    private var ws = Workspace()
    private var rows = 0
    public var dropout: Dropout?
    /// What the last training pass dropped, for backward.
    private var dropped: Dropout?

    public init(config: MLPEDMConfig, seed: UInt64) {
        precondition(
            config.dim > 0 && config.width > 0 && config.depth >= 0, "invalid MLP-EDM shape")
        self.config = config
        var layout = ParameterLayout()
        var rng = RandomSource(seed: seed)
        let w = config.width
        embedding = SinusoidalEmbedding(channels: config.embeddingChannels)
        embeddingIn = Linear(
            "map_layer0", in: config.embeddingChannels, out: w, layout: &layout, rng: &rng)
        embeddingOut = Linear("map_layer1", in: w, out: w, layout: &layout, rng: &rng)
        input = Linear("input", in: config.dim, out: w, layout: &layout, rng: &rng)
        var norms: [LayerNorm] = []
        var linears: [Linear] = []
        for i in 0..<config.depth {
            norms.append(LayerNorm("blocks.\(i).norm", features: w, layout: &layout))
            linears.append(Linear("blocks.\(i).linear", in: w, out: w, layout: &layout, rng: &rng))
        }
        blockNorms = norms
        blockLinears = linears
        outputNorm = LayerNorm("output_norm", features: w, layout: &layout)
        output = Linear("output", in: w, out: config.dim, layout: &layout, rng: &rng)
        augmented =
            config.conditionsOnAugmentedDimension
            ? AugmentedDimensionEmbedding(
                channels: config.embeddingChannels, layout: &layout, rng: &rng) : nil
        parameters = layout.makeStore()
    }

    /// The same network over `parameters` (same layout; may share this one's values) with a
    /// workspace of its own, so several threads can run parts of one batch at once.
    public func replica(parameters: ParameterStore) -> any DenoiserNetwork {
        // The layers are descriptors of the layout; a fresh network of the same config has the
        // same ones, and takes these weights (checked against its layout) for its initial ones.
        let copy = MLPEDM(config: config, seed: 0)
        copy.parameters = parameters
        return copy
    }

    public var dim: Int { config.dim }
    public var conditionsOnAugmentedDimension: Bool { augmented != nil }

    /// Below one row per unit of width, each part would stream all the weights for little work.
    public var minRowsPerPart: Int { max(16, config.width) }

    public var forwardFlopsPerExample: Double {
        let c = Double(config.embeddingChannels)
        let w = Double(config.width)
        let n = Double(config.dim)
        return 2
            * (c * w + w * w + n * w + Double(config.depth) * w * w + w * n
                + (augmented == nil ? 0 : c * c))
    }

    private struct Workspace {
        var x = Scratch(), cNoise = Scratch(), sinusoid = Scratch(), augSinusoid = Scratch()
        var embPre = Scratch(), embAct = Scratch()
        var hidden = Scratch(), normalized = Scratch(), inverseStd = Scratch(),
            activated = Scratch()
        var gradHidden = Scratch(), gradActivated = Scratch(), gradEmbAct = Scratch()
    }

    /// out[rows×N] ← F_θ(x, c_noise[, c_aug]); x is rows×N, cNoise (and cAug) have one value per
    /// row. Without `keepForBackward`, rows that share their conditions (as in sampling) share one
    /// embedding pass.
    public func forward(
        _ x: UnsafePointer<Float>, cNoise: UnsafePointer<Float>, cAug: UnsafePointer<Float>?,
        rows: Int,
        into out: UnsafeMutablePointer<Float>, keepForBackward: Bool
    ) {
        precondition(
            augmented == nil || cAug != nil, "this network conditions on D: c_aug is required")
        self.rows = keepForBackward ? rows : 0
        dropped = keepForBackward ? dropout.flatMap { $0.probability > 0 ? $0 : nil } : nil
        let n = config.dim
        let w = config.width
        let c = config.embeddingChannels
        let blocks = config.depth + 1
        let p = parameters
        let xs = ws.x.pointer(rows * n)
        let cs = ws.cNoise.pointer(rows)
        xs.update(from: x, count: rows * n)
        cs.update(from: cNoise, count: rows)
        let sinusoid = ws.sinusoid.pointer(rows * c)
        let embPre = ws.embPre.pointer(rows * w)
        let embAct = ws.embAct.pointer(rows * w)
        let hidden = ws.hidden.pointer(rows * w)
        // Backward needs every block's x̂ and activations; inference reuses one block's worth.
        let kept = keepForBackward ? blocks : 1
        let normalized = ws.normalized.pointer(kept * rows * w)
        let inverseStd = ws.inverseStd.pointer(blocks * rows)
        let activated = ws.activated.pointer(kept * rows * w)

        let ca = augmented == nil ? nil : cAug
        let shared = !keepForBackward && conditionsShared(cs, ca, rows: rows)
        let embRows = shared ? 1 : rows
        embedding.forward(cs, rows: embRows, into: sinusoid)
        if let augmented, let ca {
            augmented.forward(
                ca, rows: embRows, kept: ws.augSinusoid.pointer(rows * c), into: sinusoid,
                parameters: p)
        }
        embeddingIn.forward(sinusoid, rows: embRows, into: embPre, parameters: p)
        Kernels.silu(embPre, embAct, count: embRows * w)
        embeddingOut.forward(embAct, rows: embRows, into: hidden, parameters: p)
        if shared { for r in 1..<max(rows, 1) { (hidden + r * w).update(from: hidden, count: w) } }
        input.forward(
            xs, rows: rows, into: hidden, parameters: p, accumulate: true)
        // The residual stream h is updated in place: backward needs only x̂, 1/σ and the
        // activations.
        for i in 0..<blocks {
            let o = keepForBackward ? i * rows * w : 0
            let norm = i < config.depth ? blockNorms[i] : outputNorm
            norm.forward(
                hidden, rows: rows, into: nil, normalized: keepForBackward ? normalized + o : nil,
                inverseStd: inverseStd + i * rows, siluOut: activated + o, parameters: p)
            if i < config.depth {
                dropped?.apply(activated + o, rows: rows, width: w, block: i)
                blockLinears[i].forward(
                    activated + o, rows: rows, into: hidden, parameters: p, accumulate: true)
            } else {
                output.forward(
                    activated + o, rows: rows, into: out, parameters: p)
            }
        }
    }

    /// Sets every parameter gradient for the last forward pass, given dLoss/dF.
    /// Writes dLoss/dx into `gradX` and dLoss/dc_noise into `gradCNoise` when given.
    public func backward(
        gradOut: UnsafePointer<Float>, gradX: UnsafeMutablePointer<Float>?,
        gradCNoise: UnsafeMutablePointer<Float>?
    ) {
        precondition(rows > 0, "backward needs a forward pass that kept its values")
        let rows = rows
        let n = config.dim
        let w = config.width
        let c = config.embeddingChannels
        let p = parameters
        let hiddenSize = rows * w
        let xs = ws.x.pointer(rows * n)
        let cs = ws.cNoise.pointer(rows)
        let sinusoid = ws.sinusoid.pointer(rows * c)
        let embPre = ws.embPre.pointer(hiddenSize)
        let embAct = ws.embAct.pointer(hiddenSize)
        let normalized = ws.normalized.pointer((config.depth + 1) * hiddenSize)
        let inverseStd = ws.inverseStd.pointer((config.depth + 1) * rows)
        let activated = ws.activated.pointer((config.depth + 1) * hiddenSize)
        let gradHidden = ws.gradHidden.pointer(hiddenSize)
        let gradActivated = ws.gradActivated.pointer(hiddenSize)

        // Output head, then the residual blocks in reverse; gradHidden carries dLoss/dh.
        var first = true
        for i in stride(from: config.depth, through: 0, by: -1) {
            let o = i * hiddenSize
            if i == config.depth {
                output.backward(
                    activated + o, gradY: gradOut, rows: rows, gradX: gradActivated, parameters: p)
            } else {
                blockLinears[i].backward(
                    activated + o, gradY: gradHidden, rows: rows, gradX: gradActivated,
                    parameters: p)
                dropped?.apply(gradActivated, rows: rows, width: w, block: i)
            }
            let norm = i < config.depth ? blockNorms[i] : outputNorm
            norm.backward(
                gradY: gradActivated, throughSilu: true, normalized: normalized + o,
                inverseStd: inverseStd + i * rows,
                rows: rows, gradX: gradHidden, accumulateGradX: !first, parameters: p)
            first = false
        }
        input.backward(xs, gradY: gradHidden, rows: rows, gradX: gradX, parameters: p)
        let gradEmbAct = ws.gradEmbAct.pointer(hiddenSize)
        embeddingOut.backward(
            embAct, gradY: gradHidden, rows: rows, gradX: gradEmbAct, parameters: p)
        Kernels.siluBackward(embPre, gradEmbAct, gradEmbAct, count: hiddenSize)
        guard gradCNoise != nil || augmented != nil else {
            return embeddingIn.backward(
                sinusoid, gradY: gradEmbAct, rows: rows, gradX: nil, parameters: p)
        }
        let gradSinusoid = ws.gradActivated.pointer(rows * c)
        embeddingIn.backward(
            sinusoid, gradY: gradEmbAct, rows: rows, gradX: gradSinusoid, parameters: p)
        augmented?.backward(
            kept: ws.augSinusoid.pointer(rows * c), gradSinusoid: gradSinusoid, rows: rows,
            parameters: p)
        if let gradCNoise {
            embedding.backward(cs, gradOut: gradSinusoid, rows: rows, into: gradCNoise)
        }
    }
}
