import Foundation

/// Shape of the U-Net denoiser: square images side×side with `channels` colour channels, `width`
/// feature channels at every resolution, `depth` residual blocks per resolution on each side.
public struct UNetConfig: Sendable, Codable, Equatable {
    public var side: Int
    public var channels: Int
    public var width: Int
    public var depth: Int
    public var embeddingChannels: Int
    /// Whether D is a second condition (one network over a range of D).
    public var conditionsOnAugmentedDimension = false

    public init(
        side: Int, channels: Int = 1, width: Int, depth: Int, embeddingChannels: Int = 128,
        conditionsOnAugmentedDimension: Bool = false
    ) {
        self.side = side
        self.channels = channels
        self.width = width
        self.depth = depth
        self.embeddingChannels = embeddingChannels
        self.conditionsOnAugmentedDimension = conditionsOnAugmentedDimension
    }

    public var dim: Int { side * side * channels }
    /// Width of the noise embedding the blocks read.
    public var embeddingWidth: Int { 4 * width }
    /// The network's parameter count, known before anything is allocated (checked against the built
    /// network).
    public var parameterCount: Int {
        let w = width
        let e = embeddingWidth
        let c = embeddingChannels
        let linear = { (i: Int, o: Int) in i * o + o }
        let conv = { (i: Int, o: Int) in 9 * i * o + o }
        let block = 2 * w + conv(w, w) + linear(e, w) + 2 * w + conv(w, w)
        return linear(c, e) + linear(e, e) + conv(channels, w) + 2 * levels * depth * block + 2 * w
            + conv(w, channels) + (conditionsOnAugmentedDimension ? linear(c, c) : 0)
    }

    /// Resolutions: halve while the side is even and stays at least 4, at most three times.
    public var levels: Int {
        var n = 1
        var s = side
        while n < 4 && s % 2 == 0 && s / 2 >= 4 {
            s /= 2
            n += 1
        }
        return n
    }
}

/// One residual block: t = conv₀(SiLU(GN₀(h))) + A·emb; t = conv₁(SiLU(GN₁(t))); h ← (h + t)/√2.
struct ResidualBlock: Sendable {
    let norm0: GroupNorm, conv0: Convolution3x3, affine: Linear, norm1: GroupNorm,
        conv1: Convolution3x3

    init(
        _ name: String, width: Int, embedding: Int, layout: inout ParameterLayout,
        rng: inout RandomSource
    ) {
        let groups = GroupNorm.groups(for: width)
        norm0 = GroupNorm("\(name).norm0", channels: width, groups: groups, layout: &layout)
        conv0 = Convolution3x3("\(name).conv0", in: width, out: width, layout: &layout, rng: &rng)
        affine = Linear("\(name).affine", in: embedding, out: width, layout: &layout, rng: &rng)
        norm1 = GroupNorm("\(name).norm1", channels: width, groups: groups, layout: &layout)
        // Near-zero last convolution: each block starts close to the identity.
        conv1 = Convolution3x3(
            "\(name).conv1", in: width, out: width, gain: 1e-5, layout: &layout, rng: &rng)
    }
}

/// A small U-Net in the spirit of EDM's DDPM++ over channels-last feature maps:
///   emb = SiLU(Linear(SiLU(Linear(sinusoidal(c_noise)))))
///   h = conv(x); per resolution: `depth` residual blocks, keep h as the skip, average-pool 2×2;
///   back up: nearest 2× upsampling, h ← (h + skip)/√2, `depth` residual blocks;
///   F = conv(SiLU(GN(h))).
/// Inputs and outputs are rows of C·H·W values (channels first), as data files hold images.
public final class UNet: DenoiserNetwork {
    public let config: UNetConfig
    public var parameters: ParameterStore {
        willSet {
            precondition(
                newValue.slots == parameters.slots, "parameter layout differs from the network's")
        }
    }
    let embedding: SinusoidalEmbedding
    let mapIn: Linear, mapOut: Linear, input: Convolution3x3, outputNorm: GroupNorm,
        output: Convolution3x3
    /// Encoder blocks level by level, then decoder blocks from the lowest level up: the order they
    /// run in (and the order of their saved values).
    let blocks: [ResidualBlock]
    /// Indices into `blocks`: each level's encoder and decoder blocks, in the order they run.
    let encoder: [[Int]], decoder: [[Int]]
    /// The level of each block.
    let blockLevel: [Int]
    let augmented: AugmentedDimensionEmbedding?
    private var ws = Workspace()
    private var images = 0
    public var dropout: Dropout?
    /// What the last training pass dropped, for backward.
    private var dropped: Dropout?

    public init(config: UNetConfig, seed: UInt64) {
        precondition(
            config.side >= 2 && config.channels >= 1 && config.width >= 1 && config.depth >= 0,
            "invalid U-Net shape")
        self.config = config
        var layout = ParameterLayout()
        var rng = RandomSource(seed: seed)
        let w = config.width
        let e = config.embeddingWidth
        embedding = SinusoidalEmbedding(channels: config.embeddingChannels)
        mapIn = Linear(
            "map_layer0", in: config.embeddingChannels, out: e, layout: &layout, rng: &rng)
        mapOut = Linear("map_layer1", in: e, out: e, layout: &layout, rng: &rng)
        input = Convolution3x3("input", in: config.channels, out: w, layout: &layout, rng: &rng)
        var blocks: [ResidualBlock] = []
        var indices = (enc: [[Int]](repeating: [], count: config.levels), dec: [[Int]]())
        indices.dec = indices.enc
        var blockLevel: [Int] = []
        for side in ["enc", "dec"] {
            let order =
                side == "enc" ? Array(0..<config.levels) : Array((0..<config.levels).reversed())
            for level in order {
                for j in 0..<config.depth {
                    if side == "enc" {
                        indices.enc[level].append(blocks.count)
                    } else {
                        indices.dec[level].append(blocks.count)
                    }
                    blockLevel.append(level)
                    blocks.append(
                        ResidualBlock(
                            "\(side).\(level).\(j)", width: w, embedding: e, layout: &layout,
                            rng: &rng))
                }
            }
        }
        self.blocks = blocks
        (encoder, decoder, self.blockLevel) = (indices.enc, indices.dec, blockLevel)
        outputNorm = GroupNorm(
            "output_norm", channels: w, groups: GroupNorm.groups(for: w), layout: &layout)
        output = Convolution3x3(
            "output", in: w, out: config.channels, gain: 1e-5, layout: &layout, rng: &rng)
        augmented =
            config.conditionsOnAugmentedDimension
            ? AugmentedDimensionEmbedding(
                channels: config.embeddingChannels, layout: &layout, rng: &rng) : nil
        parameters = layout.makeStore()
    }

    public var dim: Int { config.dim }
    public var conditionsOnAugmentedDimension: Bool { augmented != nil }
    public var minRowsPerPart: Int { 2 }

    public func replica(parameters: ParameterStore) -> any DenoiserNetwork {
        // The layers are descriptors of the layout; a fresh network of the same config has the
        // same ones, and takes these weights (checked against its layout) for its initial ones.
        let copy = UNet(config: config, seed: 0)
        copy.parameters = parameters
        return copy
    }

    public var forwardFlopsPerExample: Double {
        let w = Double(config.width)
        let e = Double(config.embeddingWidth)
        let c = Double(config.channels)
        let c0 = Double(config.embeddingChannels)
        var flops = 2 * (c0 * e + e * e + (augmented == nil ? 0 : c0 * c0))
        var pixels = Double(config.side * config.side)
        flops += 2 * pixels * 9 * c * w * 2
        for _ in 0..<config.levels {
            flops += 2 * Double(config.depth) * (2 * 2 * pixels * 9 * w * w + 2 * e * w)
            pixels /= 4
        }
        return flops
    }

    func geometry(level: Int, images: Int) -> ImageGeometry {
        let s = config.side >> level
        return ImageGeometry(images: images, height: s, width: s)
    }

    private struct Workspace {
        var x = Scratch(), cNoise = Scratch(), augSinusoid = Scratch()
        var sinusoid = Scratch(), mapPre = Scratch(), mapAct = Scratch()
        var embPre = Scratch(), emb = Scratch(), affine = Scratch(), gradEmb = Scratch(),
            gradMap = Scratch()
        /// Per level, the features h at that resolution and their gradient. They are the skip
        /// stack: going down, level l's h stays put as its skip while the levels below run; coming
        /// back up, h_l ← (up(h_{l+1}) + skip_l)/√2 in place.
        var stream: [Scratch] = [], gradStream: [Scratch] = []
        /// A block's inner activations (and, inferring, the output norm's) and their gradients.
        var t = Scratch(), gradT = Scratch(), gradA = Scratch(), gnScratch = Scratch()
        /// F's output before it returns to channels first, its gradient, and the input's.
        var output = Scratch(), gradOutput = Scratch(), gradInput = Scratch()
        /// Per block: x̂₀, a₀ = SiLU(GN₀), x̂₁, a₁, and the 1/σ of both norms; then the output
        /// norm's.
        var saved = Scratch(), inverseStd = Scratch()
        var conv = ConvolutionWorkspace()
    }

    /// Floats of an activation that `conv` reads: framed where it reads framed input in place.
    func activationCount(_ g: ImageGeometry, for conv: Convolution3x3) -> Int {
        (conv.readsFramed ? g.framed.count : g.pixels) * conv.inChannels
    }

    /// Where a training pass keeps what backward needs, in `saved` and `inverseStd`: each block's
    /// x̂₀, a₀, x̂₁, a₁ and its norms' 1/σ, then the output norm's x̂, activation and 1/σ.
    private struct SavedLayout {
        var blockValues: [Int] = [], blockStds: [Int] = []
        var outputValues = 0, outputStds = 0, totalValues = 0, totalStds = 0
    }

    private func savedLayout(images: Int) -> SavedLayout {
        var layout = SavedLayout()
        let w = config.width
        let groups = GroupNorm.groups(for: w)
        for i in blocks.indices {
            layout.blockValues.append(layout.outputValues)
            layout.blockStds.append(layout.outputStds)
            let g = geometry(level: blockLevel[i], images: images)
            layout.outputValues += BlockSlots(self, blocks[i], g).size
            layout.outputStds += 2 * images * groups
        }
        let top = geometry(level: 0, images: images)
        layout.totalValues =
            layout.outputValues + top.pixels * w + activationCount(top, for: output)
        layout.totalStds = layout.outputStds + images * groups
        return layout
    }

    public func forward(
        _ x: UnsafePointer<Float>, cNoise: UnsafePointer<Float>, cAug: UnsafePointer<Float>?,
        rows: Int,
        into out: UnsafeMutablePointer<Float>, keepForBackward: Bool
    ) {
        precondition(
            augmented == nil || cAug != nil, "this network conditions on D: c_aug is required")
        images = keepForBackward ? rows : 0
        dropped = keepForBackward ? dropout.flatMap { $0.probability > 0 ? $0 : nil } : nil
        let w = config.width
        let levels = config.levels
        let p = parameters
        let top = geometry(level: 0, images: rows)
        let xs = ws.x.pointer(top.pixels * config.channels)
        let cs = ws.cNoise.pointer(rows)
        Self.toChannelsLast(
            x, images: rows, pixels: top.pixelsPerImage, channels: config.channels, into: xs)
        cs.update(from: cNoise, count: rows)
        let ca = augmented == nil ? nil : cAug
        let shared = !keepForBackward && conditionsShared(cs, ca, rows: rows)
        let embRows = shared ? 1 : rows
        let emb = embed(cs, ca, rows: embRows)
        if ws.stream.count < levels { ws.stream = Array(repeating: Scratch(), count: levels) }
        let streams = (0..<levels).map {
            ws.stream[$0].pointer(geometry(level: $0, images: rows).pixels * w)
        }
        let layout = savedLayout(images: keepForBackward ? rows : 1)
        let saved = ws.saved.pointer(keepForBackward ? layout.totalValues : 0)
        let stds = ws.inverseStd.pointer(keepForBackward ? layout.totalStds : 0)

        input.forward(xs, top, into: streams[0], parameters: p, workspace: &ws.conv)
        for level in 0..<levels {
            let g = geometry(level: level, images: rows)
            for b in encoder[level] {
                runBlock(
                    b, streams[level], g, emb: emb, sharedEmbedding: shared,
                    saved: keepForBackward ? saved + layout.blockValues[b] : nil,
                    stds: stds + (keepForBackward ? layout.blockStds[b] : 0))
            }
            // streams[level] now holds the skip; the level below starts from its pooled copy.
            if level < levels - 1 {
                Resampling.averagePool(streams[level], g, channels: w, into: streams[level + 1])
            }
        }
        for level in (0..<levels).reversed() {
            let g = geometry(level: level, images: rows)
            if level < levels - 1 {
                Resampling.upsample(
                    streams[level + 1], g, channels: w, into: streams[level], accumulate: true)
                Self.scale(streams[level], count: g.pixels * w, by: Float(0.5).squareRoot())
            }
            for b in decoder[level] {
                runBlock(
                    b, streams[level], g, emb: emb, sharedEmbedding: shared,
                    saved: keepForBackward ? saved + layout.blockValues[b] : nil,
                    stds: stds + (keepForBackward ? layout.blockStds[b] : 0))
            }
        }
        let xhat = keepForBackward ? saved + layout.outputValues : nil
        let act =
            keepForBackward
            ? saved + layout.outputValues + top.pixels * w
            : ws.t.pointer(activationCount(top, for: output))
        let outStd =
            keepForBackward
            ? stds + layout.outputStds : ws.gnScratch.pointer(rows * outputNorm.groups)
        outputNorm.forward(
            streams[0], top, siluOut: act, normalized: xhat, inverseStd: outStd, parameters: p,
            framedOutput: output.readsFramed)
        let result = ws.output.pointer(top.pixels * config.channels)
        output.forward(
            act, top, into: result, parameters: p, workspace: &ws.conv,
            inputFramed: output.readsFramed)
        Self.toChannelsFirst(
            result, images: rows, pixels: top.pixelsPerImage, channels: config.channels, into: out)
    }

    /// The embedding of `rows` values of c_noise (and c_aug) (rows × embeddingWidth).
    private func embed(_ cs: UnsafePointer<Float>, _ ca: UnsafePointer<Float>?, rows: Int)
        -> UnsafeMutablePointer<Float>
    {
        let e = config.embeddingWidth
        let p = parameters
        let sinusoid = ws.sinusoid.pointer(rows * config.embeddingChannels)
        let mapPre = ws.mapPre.pointer(rows * e)
        let mapAct = ws.mapAct.pointer(rows * e)
        let embPre = ws.embPre.pointer(rows * e)
        let emb = ws.emb.pointer(rows * e)
        embedding.forward(cs, rows: rows, into: sinusoid)
        if let augmented, let ca {
            augmented.forward(
                ca, rows: rows, kept: ws.augSinusoid.pointer(rows * config.embeddingChannels),
                into: sinusoid, parameters: p)
        }
        mapIn.forward(sinusoid, rows: rows, into: mapPre, parameters: p)
        Kernels.silu(mapPre, mapAct, count: rows * e)
        mapOut.forward(mapAct, rows: rows, into: embPre, parameters: p)
        Kernels.silu(embPre, emb, count: rows * e)
        return emb
    }

    /// One residual block on h in place. With `saved`, keeps x̂₀, a₀, x̂₁, a₁ there and both norms'
    /// 1/σ in `stds`.
    private func runBlock(
        _ i: Int, _ h: UnsafeMutablePointer<Float>, _ g: ImageGeometry, emb: UnsafePointer<Float>,
        sharedEmbedding: Bool, saved: UnsafeMutablePointer<Float>?,
        stds: UnsafeMutablePointer<Float>
    ) {
        let block = blocks[i]
        let w = config.width
        let n = g.pixels * w
        let p = parameters
        let slots = BlockSlots(self, block, g)
        let a0 = saved.map { $0 + slots.a0 } ?? ws.gradA.pointer(slots.activation)
        let a1 = saved.map { $0 + slots.a1 } ?? ws.gradA.pointer(slots.activation)
        let t = ws.t.pointer(n)
        let std0 = saved == nil ? ws.gnScratch.pointer(g.images * block.norm0.groups) : stds
        let std1 = saved == nil ? std0 : stds + g.images * block.norm0.groups
        let framed0 = block.conv0.readsFramed
        let framed1 = block.conv1.readsFramed
        block.norm0.forward(
            h, g, siluOut: a0, normalized: saved, inverseStd: std0, parameters: p,
            framedOutput: framed0)
        let embRows = sharedEmbedding ? 1 : g.images
        let affine = ws.affine.pointer(embRows * w)
        block.affine.forward(emb, rows: embRows, into: affine, parameters: p)
        block.conv0.forward(
            a0, g, into: t, parameters: p, workspace: &ws.conv,
            imageBias: ImageBias(affine, stride: sharedEmbedding ? 0 : w), inputFramed: framed0)
        block.norm1.forward(
            t, g, siluOut: a1, normalized: saved.map { $0 + slots.xhat1 }, inverseStd: std1,
            parameters: p,
            framedOutput: framed1)
        if saved != nil {
            dropped?.apply(images: a1, g, channels: w, block: i, framed: framed1)
        }
        block.conv1.forward(
            a1, g, into: h, parameters: p, workspace: &ws.conv, accumulate: true,
            scale: Float(0.5).squareRoot(), inputFramed: framed1)
    }

    /// Where a block keeps x̂₀ (at 0), a₀, x̂₁, a₁ in its saved values (the activations framed
    /// where the convolutions read them so): `size` floats in all; `activation` floats hold either
    /// activation.
    struct BlockSlots {
        let a0: Int, xhat1: Int, a1: Int, size: Int, activation: Int

        init(_ net: UNet, _ block: ResidualBlock, _ g: ImageGeometry) {
            let n = g.pixels * net.config.width
            let first = net.activationCount(g, for: block.conv0)
            let second = net.activationCount(g, for: block.conv1)
            (a0, xhat1, a1, size) = (n, n + first, 2 * n + first, 2 * n + first + second)
            activation = max(first, second)
        }
    }

    public func backward(
        gradOut: UnsafePointer<Float>, gradX: UnsafeMutablePointer<Float>?,
        gradCNoise: UnsafeMutablePointer<Float>?
    ) {
        precondition(images > 0, "backward needs a forward pass that kept its values")
        let rows = images
        let w = config.width
        let levels = config.levels
        let e = config.embeddingWidth
        let p = parameters
        let top = geometry(level: 0, images: rows)
        let layout = savedLayout(images: rows)
        let saved = ws.saved.pointer(layout.totalValues)
        let stds = ws.inverseStd.pointer(layout.totalStds)
        if ws.gradStream.count < levels {
            ws.gradStream = Array(repeating: Scratch(), count: levels)
        }
        let grads = (0..<levels).map {
            ws.gradStream[$0].pointer(geometry(level: $0, images: rows).pixels * w)
        }
        let gradEmb = ws.gradEmb.pointer(rows * e)
        gradEmb.update(repeating: 0, count: rows * e)

        let gradResult = ws.gradOutput.pointer(top.pixels * config.channels)
        Self.toChannelsLast(
            gradOut, images: rows, pixels: top.pixelsPerImage, channels: config.channels,
            into: gradResult)
        let xhat = saved + layout.outputValues
        let act = xhat + top.pixels * w
        let gradAct = ws.gradA.pointer(top.pixels * w)
        output.backward(
            act, gradY: gradResult, top, gradX: gradAct, parameters: p, workspace: &ws.conv,
            inputFramed: output.readsFramed)
        outputNorm.backward(
            gradOut: gradAct, normalized: xhat, inverseStd: stds + layout.outputStds, top,
            gradX: grads[0], parameters: p, scratch: ws.gnScratch.pointer(top.pixels * w))
        for level in 0..<levels {
            let g = geometry(level: level, images: rows)
            for b in decoder[level].reversed() {
                backBlock(
                    b, grads[level], g, saved: saved + layout.blockValues[b],
                    stds: stds + layout.blockStds[b], gradEmb: gradEmb)
            }
            if level < levels - 1 {
                // h = (up(h_below) + skip)/√2: grads[level] keeps √½·dh for the skip; the level
                // below gets its share.
                Self.scale(grads[level], count: g.pixels * w, by: Float(0.5).squareRoot())
                Resampling.upsampleBackward(grads[level], g, channels: w, into: grads[level + 1])
            }
        }
        for level in (0..<levels).reversed() {
            let g = geometry(level: level, images: rows)
            if level < levels - 1 {
                Resampling.averagePoolBackward(
                    grads[level + 1], g, channels: w, into: grads[level], accumulate: true)
            }
            for b in encoder[level].reversed() {
                backBlock(
                    b, grads[level], g, saved: saved + layout.blockValues[b],
                    stds: stds + layout.blockStds[b], gradEmb: gradEmb)
            }
        }
        let gradInput = ws.gradInput.pointer(top.pixels * config.channels)
        input.backward(
            ws.x.pointer(top.pixels * config.channels), gradY: grads[0], top,
            gradX: gradX == nil ? nil : gradInput, parameters: p, workspace: &ws.conv)
        if let gradX {
            Self.toChannelsFirst(
                gradInput, images: rows, pixels: top.pixelsPerImage, channels: config.channels,
                into: gradX)
        }
        embedBackward(gradEmb, rows: rows, gradCNoise: gradCNoise)
    }

    /// Backward through one residual block: dh (in place) from dL/d(block output); adds to dL/d
    /// emb.
    private func backBlock(
        _ i: Int, _ dh: UnsafeMutablePointer<Float>, _ g: ImageGeometry,
        saved: UnsafeMutablePointer<Float>,
        stds: UnsafeMutablePointer<Float>, gradEmb: UnsafeMutablePointer<Float>
    ) {
        let block = blocks[i]
        let w = config.width
        let n = g.pixels * w
        let p = parameters
        let slots = BlockSlots(self, block, g)
        let xhat0 = saved
        let a0 = saved + slots.a0
        let xhat1 = saved + slots.xhat1
        let a1 = saved + slots.a1
        let std0 = stds
        let std1 = stds + g.images * block.norm0.groups
        let gradA = ws.gradA.pointer(n)
        let gradT = ws.gradT.pointer(n)
        let scratch = ws.gnScratch.pointer(n)
        Self.scale(dh, count: n, by: Float(0.5).squareRoot())
        block.conv1.backward(
            a1, gradY: dh, g, gradX: gradA, parameters: p, workspace: &ws.conv,
            inputFramed: block.conv1.readsFramed)
        dropped?.apply(images: gradA, g, channels: w, block: i, framed: false)
        block.norm1.backward(
            gradOut: gradA, normalized: xhat1, inverseStd: std1, g, gradX: gradT, parameters: p,
            scratch: scratch)
        let gradAffine = ws.affine.pointer(g.images * w)
        for image in 0..<g.images {
            Kernels.columnSums(
                gradT + image * g.pixelsPerImage * w, rows: g.pixelsPerImage, cols: w,
                into: gradAffine + image * w)
        }
        block.affine.backward(
            ws.emb.pointer(g.images * config.embeddingWidth), gradY: gradAffine, rows: g.images,
            gradX: gradEmb, accumulateGradX: true, parameters: p)
        block.conv0.backward(
            a0, gradY: gradT, g, gradX: gradA, parameters: p, workspace: &ws.conv,
            inputFramed: block.conv0.readsFramed)
        block.norm0.backward(
            gradOut: gradA, normalized: xhat0, inverseStd: std0, g, gradX: dh,
            accumulateGradX: true,
            parameters: p, scratch: scratch)
    }

    private func embedBackward(
        _ gradEmb: UnsafeMutablePointer<Float>, rows: Int, gradCNoise: UnsafeMutablePointer<Float>?
    ) {
        let e = config.embeddingWidth
        let p = parameters
        let gradMap = ws.gradMap.pointer(rows * max(e, config.embeddingChannels))
        Kernels.siluBackward(ws.embPre.pointer(rows * e), gradEmb, gradEmb, count: rows * e)
        mapOut.backward(
            ws.mapAct.pointer(rows * e), gradY: gradEmb, rows: rows, gradX: gradMap, parameters: p)
        Kernels.siluBackward(ws.mapPre.pointer(rows * e), gradMap, gradMap, count: rows * e)
        let sinusoid = ws.sinusoid.pointer(rows * config.embeddingChannels)
        guard gradCNoise != nil || augmented != nil else {
            return mapIn.backward(sinusoid, gradY: gradMap, rows: rows, gradX: nil, parameters: p)
        }
        let gradSinusoid = ws.gradEmb.pointer(rows * max(e, config.embeddingChannels))
        mapIn.backward(sinusoid, gradY: gradMap, rows: rows, gradX: gradSinusoid, parameters: p)
        augmented?.backward(
            kept: ws.augSinusoid.pointer(rows * config.embeddingChannels),
            gradSinusoid: gradSinusoid,
            rows: rows, parameters: p)
        if let gradCNoise {
            embedding.backward(
                ws.cNoise.pointer(rows), gradOut: gradSinusoid, rows: rows, into: gradCNoise)
        }
    }

    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
        for i in 0..<count { x[i] *= s }
    }

    /// Rows of C·H·W values to channels-last pixel rows (a copy when C = 1).
    static func toChannelsLast(
        _ x: UnsafePointer<Float>, images: Int, pixels: Int, channels c: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        if c == 1 { return out.update(from: x, count: images * pixels) }
        for image in 0..<images {
            let o = image * pixels * c
            for ch in 0..<c { for q in 0..<pixels { out[o + q * c + ch] = x[o + ch * pixels + q] } }
        }
    }

    static func toChannelsFirst(
        _ x: UnsafePointer<Float>, images: Int, pixels: Int, channels c: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        if c == 1 { return out.update(from: x, count: images * pixels) }
        for image in 0..<images {
            let o = image * pixels * c
            for ch in 0..<c { for q in 0..<pixels { out[o + ch * pixels + q] = x[o + q * c + ch] } }
        }
    }
}
