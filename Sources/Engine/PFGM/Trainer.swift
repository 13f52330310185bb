import Foundation

/// PFGM++ training with the EDM recipe transferred by r = σ√D: draw ln σ ~ N(P_mean, P_std²),
/// perturb y with the kernel at r, and minimise λ(σ)·‖D_θ(x, σ) − y‖², which under the
/// preconditioning is ‖F_θ(c_in·x, c_noise) − (y − c_skip·x)/c_out‖² (with a reference
/// batch, y's posterior mean over it in place of y: `StableTarget`). Adam, then an EMA of the
/// weights.
public final class Trainer {
    public let config: TrainingConfig
    public let dimensions: TrainedDimensions
    public let network: any DenoiserNetwork
    public let adam: Adam
    public let ema: ExponentialMovingAverage
    public let preconditioning: Preconditioning
    /// The kernel's truncation at the one D, or over the range (one network).
    public let truncation: KernelTruncation?
    let truncationTable: KernelTruncationTable?
    let data: Matrix
    let noiseLevels: NoiseLevelDistribution
    /// Data order and noise are separate streams, so runs that differ only in D see the same data.
    public internal(set) var dataRNG: RandomSource
    public internal(set) var noiseRNG: RandomSource
    public private(set) var step = 0
    /// The batch's clean points, then the rest of the reference batch (with the stable target).
    private let y: FloatBuffer
    private let x: FloatBuffer, input: FloatBuffer, out: FloatBuffer, grad: FloatBuffer
    /// What each row regresses on: y, or its stable target.
    private let target: FloatBuffer
    private let sigmas: FloatBuffer, cNoise: FloatBuffer, cAug: FloatBuffer
    private let stableTarget: StableTarget?
    /// Each row's D in the last batch (the one D, or the draws over the range).
    private var rowDimensions: [AugmentedDimension] = []
    private var copies: [any DenoiserNetwork] = [], activeReplicas: [any DenoiserNetwork] = []
    /// Threads for this trainer's steps; nil follows `Compute.threads`.
    public var threads: Int?

    public init(config: TrainingConfig, data: Matrix) throws(DataError) {
        if let problem = config.problem { throw DataError(problem) }
        let dimensions = config.augDim
        guard data.cols == config.dim, data.rows > 0 else {
            throw DataError("data has \(data.cols) coordinates, the model \(config.dim)")
        }
        self.config = config
        self.dimensions = dimensions
        self.data = data
        network = config.makeNetwork(seed: config.seed)
        adam = Adam(
            parameterCount: network.parameters.count, learningRate: Float(config.learningRate))
        ema = ExponentialMovingAverage(
            of: network.parameters, decay: Float(config.emaDecay), warmup: config.emaWarmup ?? true,
            halfLife: config.emaHalfLife)
        preconditioning = Preconditioning(sigmaData: config.sigmaData)
        switch dimensions {
        case .one(let d):
            truncation = config.truncation(at: d)
            truncationTable = nil
        case .range(let range):
            truncation = nil
            truncationTable = config.kernelQuantile.flatMap {
                $0 < 1 ? KernelTruncationTable(quantile: $0, dim: config.dim, range: range) : nil
            }
        }
        noiseLevels = NoiseLevelDistribution(pMean: config.pMean, pStd: config.pStd)
        dataRNG = RandomSource(seed: config.seed, stream: 1)
        noiseRNG = RandomSource(seed: config.seed, stream: 2)
        let b = config.batch
        let n = config.dim
        stableTarget = config.referenceRows.map { StableTarget(referenceRows: $0, dim: n) }
        y = FloatBuffer(count: (config.referenceRows ?? b) * n)
        target = stableTarget == nil ? y : FloatBuffer(count: b * n)
        x = FloatBuffer(count: b * n)
        input = FloatBuffer(count: b * n)
        out = FloatBuffer(count: b * n)
        grad = FloatBuffer(count: b * n)
        sigmas = FloatBuffer(count: b)
        cNoise = FloatBuffer(count: b)
        cAug = FloatBuffer(count: b)
        if case .one(let d) = dimensions { rowDimensions = Array(repeating: d, count: b) }
    }

    /// One step. Returns the loss (mean over batch and coordinates). A non-finite loss leaves the
    /// weights, the optimizer and the average untouched, so the caller can stop on the last good
    /// state. The random draws are made in order on the calling thread; forward and backward run on
    /// `Compute.parts` ranges of the batch at once, and the optimizer on ranges of the parameters.
    @discardableResult
    public func trainStep() -> Float {
        let loss = computeGradients()
        guard loss.isFinite else { return loss }
        adam.learningRate = Float(config.learningRate(afterSteps: step))
        optimizerStep(gradients: activeReplicas.map { $0.parameters.grads.pointer })
        step += 1
        return loss
    }

    /// Draws a batch and runs forward and backward over it without updating anything; the gradient
    /// is left in the parts' buffers (see `summedGradient`). Returns the loss.
    public func computeGradients() -> Float {
        let b = config.batch
        let n = config.dim
        drawBatch()
        perturb()
        stableTarget?.targets(
            x: x.pointer, rows: b, sigmas: sigmas.pointer, dims: rowDimensions,
            reference: y.pointer, into: target.pointer, threads: threads)
        let parts = Compute.parts(
            rows: b, minRows: min(16, network.minRowsPerPart), threads: threads)
        let nets = replicas(parts)
        activeReplicas = nets
        var partialLoss = [Double](repeating: 0, count: parts)
        partialLoss.withUnsafeMutableBufferPointer { losses in
            Compute.run(parts: parts) { k in
                losses[k] = forwardBackward(
                    Compute.range(part: k, of: parts, count: b), network: nets[k])
            }
        }
        return Float(partialLoss.reduce(0, +) / Double(b * n))
    }

    /// dLoss/dθ of the last `computeGradients`, summed over the parts of the batch (for inspection
    /// and tests).
    public func summedGradient() -> [Float] {
        var total = [Float](repeating: 0, count: network.parameters.count)
        total.withUnsafeMutableBufferPointer { t in
            guard let base = t.baseAddress else { return }
            for net in activeReplicas {
                Kernels.add(net.parameters.grads.pointer, into: base, count: t.count)
            }
        }
        return total
    }

    /// σ and c_aug of each row of the last batch (c_aug 0 at one D), for inspection and tests.
    public func lastDraws() -> (sigmas: [Float], cAug: [Float]) {
        let b = config.batch
        let conditioned = network.conditionsOnAugmentedDimension
        return ((0..<b).map { sigmas[$0] }, (0..<b).map { conditioned ? cAug[$0] : 0 })
    }

    /// What each row of the last batch regressed on (its y, or its stable target), for inspection
    /// and tests.
    public func lastTargets() -> [Float] { (0..<(config.batch * config.dim)).map { target[$0] } }

    /// The network for each part of the batch: the first is `network`; the others share its values
    /// and keep gradients of their own.
    private func replicas(_ parts: Int) -> [any DenoiserNetwork] {
        let values = network.parameters.values
        copies.removeAll { $0.parameters.values !== values }
        while copies.count < parts - 1 {
            copies.append(
                network.replica(
                    parameters: ParameterStore(slots: network.parameters.slots, values: values)))
        }
        return [network] + copies.prefix(parts - 1)
    }

    /// Input, forward, loss, backward for one range of the batch; returns its summed squared error.
    private func forwardBackward(_ rows: Range<Int>, network net: any DenoiserNetwork) -> Double {
        let n = config.dim
        let o = rows.lowerBound * n
        for r in rows {
            let s = Double(sigmas[r])
            let cIn = Float(preconditioning.cIn(s))
            cNoise[r] = Float(preconditioning.cNoise(s))
            for i in (r * n)..<((r + 1) * n) { input[i] = cIn * x[i] }
        }
        net.dropout = config.dropout.flatMap { p in
            p > 0
                ? Dropout(probability: p, seed: config.seed, step: step, firstRow: rows.lowerBound)
                : nil
        }
        net.forward(
            input.pointer + o, cNoise: cNoise.pointer + rows.lowerBound,
            cAug: net.conditionsOnAugmentedDimension ? cAug.pointer + rows.lowerBound : nil,
            rows: rows.count, into: out.pointer + o, keepForBackward: true)
        let loss = lossAndGradient(rows)
        net.backward(gradOut: grad.pointer + o)
        return loss
    }

    /// Adam and the EMA in one pass, over ranges of the parameters at once.
    private func optimizerStep(gradients: [UnsafeMutablePointer<Float>]) {
        let adamStep = adam.beginStep()
        let decay = ema.beginUpdate()
        let count = network.parameters.count
        let parts = Compute.parts(rows: count, minRows: 16_384, threads: threads)
        let values = network.parameters.values.pointer
        let average = ema.average.values.pointer
        Compute.run(parts: parts) { k in
            adam.apply(
                adamStep, values: values, gradients: gradients,
                range: Compute.range(part: k, of: parts, count: count), average: (average, decay))
        }
    }

    private func drawBatch() {
        let b = config.batch
        let n = config.dim
        data.storage.withUnsafeBufferPointer { d in
            guard let base = d.baseAddress else { return }
            for r in 0..<(stableTarget?.referenceRows ?? b) {
                let k = dataRNG.index(below: data.rows)
                (y.pointer + r * n).update(from: base + k * n, count: n)
            }
        }
        for r in 0..<b { sigmas[r] = Float(noiseLevels.sample(&noiseRNG)) }
    }

    /// x ← y + the kernel's perturbations: at the one D, or at a D drawn per row over the range.
    private func perturb() {
        let b = config.batch
        let n = config.dim
        drawPerturbations()
        for i in 0..<(b * n) { x[i] += y[i] }
    }

    private func drawPerturbations() {
        let b = config.batch
        let n = config.dim
        switch dimensions {
        case .one(let d):
            Perturbation.sample(
                into: x.pointer, rows: b, dim: n, augmentedDimension: d, sigmas: sigmas.pointer,
                truncation: truncation, rng: &noiseRNG)
        case .range(let range):
            let share = config.infinityShare ?? AugmentedDimensionRange.defaultInfinityShare
            let featureShare = config.featureShare ?? 0
            let dims = (0..<b).map { _ in
                range.draw(&noiseRNG, infinityShare: share, featureShare: featureShare, dim: n)
            }
            rowDimensions = dims
            let table = truncationTable
            let shift = config.pMeanShift ?? 0
            for r in 0..<b {
                cAug[r] = AugmentedDimensionEmbedding.feature(dim: n, augmentedDimension: dims[r])
                if shift != 0, case .finite(let d) = dims[r] {
                    sigmas[r] *= Float(exp(shift * Double(n) / (Double(n) + d)))
                }
            }
            Perturbation.sample(
                into: x.pointer, rows: b, dim: n, sigmas: sigmas.pointer, rng: &noiseRNG
            ) { r in
                (dims[r], table?.logMaxSquaredRatio(dims[r]) ?? .infinity)
            }
        }
    }

    /// Σ (F − t)² over `rows`, t = (target − c_skip·x)/c_out; grad = d(mean loss)/dF.
    private func lossAndGradient(_ rows: Range<Int>) -> Double {
        let b = config.batch
        let n = config.dim
        let scale = 2 / Float(b * n)
        var total: Double = 0
        for r in rows {
            let s = Double(sigmas[r])
            let cSkip = Float(preconditioning.cSkip(s))
            let invOut = Float(1 / preconditioning.cOut(s))
            for c in 0..<n {
                let i = r * n + c
                let d = out[i] - (target[i] - cSkip * x[i]) * invOut
                total += Double(d * d)
                grad[i] = scale * d
            }
        }
        return total
    }

    /// A denoiser over the EMA weights (shares them: later training steps show through), at D (a
    /// range's default D when not given).
    public func emaDenoiser(at d: AugmentedDimension? = nil) -> NetworkDenoiser {
        let net = config.makeNetwork(seed: 0)
        net.parameters = ema.average
        let model = NetworkDenoiser(network: net, sigmaData: config.sigmaData)
        if net.conditionsOnAugmentedDimension {
            model.augmentedDimension = d ?? dimensions.defaultDimension
        }
        return model
    }

    /// Restores a saved state (see `RunDirectory`).
    func restore(step: Int, dataRNG: RandomSource, noiseRNG: RandomSource) {
        self.step = step
        self.dataRNG = dataRNG
        self.noiseRNG = noiseRNG
    }
}
