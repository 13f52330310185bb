import Foundation
import KernelInterface

/// Adam (Kingma & Ba) with bias correction, over a whole `ParameterStore` in one pass.
public final class Adam {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Steps taken so far (t in the bias corrections 1 − β^t).
    public private(set) var step: Int = 0
    public let firstMoment: FloatBuffer
    public let secondMoment: FloatBuffer

    public init(
        parameterCount: Int, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = FloatBuffer(count: parameterCount)
        secondMoment = FloatBuffer(count: parameterCount)
    }

    /// Restores saved state (moments and step count) to continue training.
    public func restore(step: Int, firstMoment m: [Float], secondMoment v: [Float])
        throws(ParameterError)
    {
        guard m.count == firstMoment.count else {
            throw .shapeMismatch("adam.m", expected: [firstMoment.count], found: [m.count])
        }
        guard v.count == secondMoment.count else {
            throw .shapeMismatch("adam.v", expected: [secondMoment.count], found: [v.count])
        }
        self.step = step
        firstMoment.assign(from: FloatBuffer(m))
        secondMoment.assign(from: FloatBuffer(v))
    }

    /// θ ← θ − lr·m̂/(√v̂ + ε) using the gradients in `parameters.grads`.
    public func update(_ parameters: ParameterStore) {
        precondition(
            parameters.count == firstMoment.count, "Adam was made for another parameter count")
        let step = beginStep()
        apply(
            step, values: parameters.values.pointer, gradients: [parameters.grads.pointer],
            range: 0..<parameters.count)
    }

    /// What one step needs besides the tensors, fixed once per step so ranges of it can run on
    /// several threads.
    public typealias Step = AdamStep

    /// Counts a step and returns its bias-corrected coefficients.
    public func beginStep() -> Step {
        step += 1
        let t = Double(step)
        let correction1 = Float(1 - pow(Double(beta1), t))
        let correction2 = Float(1 - pow(Double(beta2), t))
        return Step(
            stepSize: learningRate / correction1, rootCorrection2: correction2.squareRoot(),
            beta1: beta1, beta2: beta2, epsilon: epsilon)
    }

    /// The update over `range` with g = Σ `gradients` (one buffer per replica), and then, when
    /// `average` is given, the EMA a ← d·a + (1 − d)·θ of the new weights, all in one pass over
    /// memory.
    public func apply(
        _ s: Step, values w: UnsafeMutablePointer<Float>, gradients: [UnsafeMutablePointer<Float>],
        range: Range<Int>, average: (values: UnsafeMutablePointer<Float>, decay: Float)? = nil
    ) {
        guard let g = gradients.first else { return }
        for extra in gradients.dropFirst(2) {
            Kernels.add(extra + range.lowerBound, into: g + range.lowerBound, count: range.count)
        }
        let buffers = AdamBuffers(
            weights: w, first: firstMoment.pointer, second: secondMoment.pointer, gradient: g,
            otherGradient: gradients.count > 1 ? gradients[1] : nil,
            average: average?.values, decay: average?.decay ?? 0)
        CPU.kernels.adam(s, buffers, range: range)
    }
}

/// An exponential moving average of the weights, used for sampling. With `warmup`, the decay ramps
/// up as min(decay, (1 + t)/(10 + t)) so early averages are not dominated by the initialisation.
/// With a `HalfLife`, it is EDM's instead: β = 0.5^(batch / half-life in images), the half-life
/// capped at images seen × ramp-up ratio before the update (so β = 0 at the first one).
public final class ExponentialMovingAverage {
    public struct HalfLife: Sendable, Equatable {
        public var images: Double
        public var rampup: Double?
        public var batch: Int

        public init(images: Double, rampup: Double?, batch: Int) {
            self.images = images
            self.rampup = rampup
            self.batch = batch
        }

        /// β of update t (1 for the first).
        public func decay(update t: Int) -> Double {
            let seen = Double(t - 1) * Double(batch)
            let life = rampup.map { min(images, seen * $0) } ?? images
            return pow(0.5, Double(batch) / max(life, 1e-8))
        }
    }

    public let decay: Float
    public let warmup: Bool
    public let halfLife: HalfLife?
    public let average: ParameterStore
    public private(set) var updates: Int = 0

    public init(
        of parameters: ParameterStore, decay: Float = 0.999, warmup: Bool = true,
        halfLife: HalfLife? = nil
    ) {
        self.decay = decay
        self.warmup = warmup
        self.halfLife = halfLife
        average = parameters.copy()
    }

    public func restore(updates: Int) { self.updates = updates }

    public func update(from parameters: ParameterStore) {
        precondition(parameters.count == average.count, "EMA was made for another parameter count")
        let d = beginUpdate()
        let a = average.values.pointer
        let w = parameters.values.pointer
        for i in 0..<parameters.count { a[i] = d * a[i] + (1 - d) * w[i] }
    }

    /// Counts an update and returns its decay d (for `Adam.apply`, which folds the average into its
    /// pass).
    public func beginUpdate() -> Float {
        updates += 1
        if let halfLife { return Float(halfLife.decay(update: updates)) }
        let t = Float(updates)
        return warmup ? min(decay, (1 + t) / (10 + t)) : decay
    }
}
