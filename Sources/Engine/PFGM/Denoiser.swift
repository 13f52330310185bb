import Foundation

/// D(x, σ): the estimate of clean data given a noisy batch, all rows at one noise level.
public protocol Denoiser: AnyObject {
    var dim: Int { get }
    func denoise(
        _ x: UnsafePointer<Float>, rows: Int, sigma: Float, into out: UnsafeMutablePointer<Float>)
}

extension Denoiser {
    /// D(x, σ) for every row of x.
    public func denoised(_ x: Matrix, sigma: Double) -> Matrix {
        precondition(x.cols == dim, "points have \(x.cols) coordinates, the denoiser \(dim)")
        var out = Matrix(rows: x.rows, cols: x.cols)
        x.storage.withUnsafeBufferPointer { px in
            out.storage.withUnsafeMutableBufferPointer { po in
                guard let bx = px.baseAddress, let bo = po.baseAddress else { return }
                denoise(bx, rows: x.rows, sigma: Float(sigma), into: bo)
            }
        }
        return out
    }
}

/// A trained network (MLP-EDM or U-Net) wrapped in the EDM preconditioning.
public final class NetworkDenoiser: Denoiser {
    public let network: any DenoiserNetwork
    public let preconditioning: Preconditioning
    private var input = Scratch(), cNoise = Scratch(), cAug = Scratch()
    private var copies: [any DenoiserNetwork] = []
    /// Threads for this denoiser's batches; nil follows `Compute.threads`.
    public var threads: Int?
    /// The D a network over a range of D answers at (required by such a network, ignored by
    /// others).
    public var augmentedDimension: AugmentedDimension?

    public init(network: any DenoiserNetwork, sigmaData: Double) {
        self.network = network
        preconditioning = Preconditioning(sigmaData: sigmaData)
    }

    public var dim: Int { network.dim }

    /// The same network and D over other weights (a copy to freeze them, quantized ones to probe
    /// them).
    public func over(_ parameters: ParameterStore) -> NetworkDenoiser {
        let copy = NetworkDenoiser(
            network: network.replica(parameters: parameters), sigmaData: preconditioning.sigmaData)
        copy.augmentedDimension = augmentedDimension
        copy.threads = threads
        return copy
    }

    /// The same network over a copy of its weights, so training on does not move what is being
    /// measured.
    public func frozen() -> NetworkDenoiser { over(network.parameters.copy()) }

    /// Runs `Compute.parts` ranges of the rows at once, each through its own replica of the
    /// network.
    public func denoise(
        _ x: UnsafePointer<Float>, rows: Int, sigma: Float, into out: UnsafeMutablePointer<Float>
    ) {
        let n = dim
        let s = Double(sigma)
        let cIn = Float(preconditioning.cIn(s))
        let cSkip = Float(preconditioning.cSkip(s))
        let cOut = Float(preconditioning.cOut(s))
        let scaled = input.pointer(rows * n)
        let noise = cNoise.pointer(rows)
        noise.update(repeating: Float(preconditioning.cNoise(s)), count: rows)
        let aug = augmentedConditions(rows: rows)
        // Below the network's minimum rows per part, threading each sgemm is faster than splitting
        // the rows.
        let parts = Compute.parts(rows: rows, minRows: network.minRowsPerPart, threads: threads)
        let nets = replicas(parts)
        Compute.run(parts: parts) { k in
            let range = Compute.range(part: k, of: parts, count: rows)
            let values = (range.lowerBound * n)..<(range.upperBound * n)
            for i in values { scaled[i] = cIn * x[i] }
            nets[k].forward(
                scaled + values.lowerBound, cNoise: noise + range.lowerBound,
                cAug: aug.map { $0 + range.lowerBound },
                rows: range.count, into: out + values.lowerBound, keepForBackward: false)
            for i in values { out[i] = cSkip * x[i] + cOut * out[i] }
        }
    }

    /// c_aug for every row when the network conditions on D, else nil.
    private func augmentedConditions(rows: Int) -> UnsafeMutablePointer<Float>? {
        guard network.conditionsOnAugmentedDimension else { return nil }
        guard let augmentedDimension else {
            preconditionFailure("a network over a range of D needs the D to answer at")
        }
        let aug = cAug.pointer(rows)
        aug.update(
            repeating: AugmentedDimensionEmbedding.feature(
                dim: dim, augmentedDimension: augmentedDimension), count: rows)
        return aug
    }

    /// `network` and copies of it over the same parameters, one per part.
    private func replicas(_ parts: Int) -> [any DenoiserNetwork] {
        while copies.count < parts - 1 {
            copies.append(network.replica(parameters: network.parameters))
        }
        for copy in copies where copy.parameters !== network.parameters {
            copy.parameters = network.parameters
        }
        return [network] + copies.prefix(parts - 1)
    }
}

/// The exact minimiser of the denoising loss for a finite point set {y_k}: D*(x, σ) = Σ_k w_k y_k,
/// w_k ∝ (‖x − y_k‖² + r²)^(−(N+D)/2) (finite D) or exp(−‖x − y_k‖²/2σ²) (D = ∞), with log-weights
/// −(N+D)/2·log1p(‖x − y_k‖²/r²) normalised by log-sum-exp. For a truncated kernel, points beyond
/// its largest radius from x weigh nothing (unless all are: then the whole kernel's weights are
/// used).
public final class OracleDenoiser: Denoiser {
    public let points: Matrix
    public let augmentedDimension: AugmentedDimension
    public let truncation: KernelTruncation?
    private let pointNorms: [Float]
    private var sums = WeightedPointSums()

    public init(
        points: Matrix, augmentedDimension: AugmentedDimension, truncation: KernelTruncation? = nil
    ) {
        precondition(points.rows > 0, "the oracle needs at least one point")
        self.points = points
        self.augmentedDimension = augmentedDimension
        self.truncation = truncation
        var norms = [Float](repeating: 0, count: points.rows)
        points.storage.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return }
            Kernels.rowSquaredNorms(base, rows: points.rows, cols: points.cols, into: &norms)
        }
        pointNorms = norms
    }

    public var dim: Int { points.cols }

    public func denoise(
        _ x: UnsafePointer<Float>, rows: Int, sigma: Float, into out: UnsafeMutablePointer<Float>
    ) {
        let s = Double(sigma)
        points.storage.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return }
            pointNorms.withUnsafeBufferPointer { norms in
                guard let normsBase = norms.baseAddress else { return }
                sums.compute(
                    x, rows: rows, points: base, pointNorms: normsBase, count: points.rows,
                    dim: dim, into: out
                ) { _, squaredDistances, weights in
                    weigh(squaredDistances, sigma: s, into: weights)
                }
            }
        }
    }

    /// One row's normalised weights from its squared distances (`logs`, overwritten).
    private func weigh(
        _ logs: UnsafeMutableBufferPointer<Double>, sigma: Double,
        into row: UnsafeMutablePointer<Float>
    ) {
        let k = points.rows
        var maxLog = -Double.infinity
        let density = KernelLogDensity(
            dim: dim, augmentedDimension: augmentedDimension, sigma: sigma)
        let reach = truncation?.maximumSquaredRadius(sigma: sigma) ?? .infinity
        var maxInReach = -Double.infinity
        for j in 0..<k {
            let d2 = logs[j]
            let l = density(d2)
            logs[j] = l
            maxLog = max(maxLog, l)
            // row[j] (a dot product, overwritten by the weight below) marks the points out of
            // reach.
            if d2 <= reach { maxInReach = max(maxInReach, l) } else { row[j] = .infinity }
        }
        if maxInReach > -.infinity {
            for j in 0..<k where row[j] == .infinity { logs[j] = -.infinity }
            maxLog = maxInReach
        }
        var total = 0.0
        for j in 0..<k {
            let e = exp(logs[j] - maxLog)
            logs[j] = e
            total += e
        }
        for j in 0..<k { row[j] = Float(logs[j] / total) }
    }
}
