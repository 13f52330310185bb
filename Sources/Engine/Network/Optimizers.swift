import Foundation

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

    public init(parameterCount: Int, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = FloatBuffer(count: parameterCount)
        secondMoment = FloatBuffer(count: parameterCount)
    }

    /// Restores saved state (moments and step count) to continue training.
    public func restore(step: Int, firstMoment m: [Float], secondMoment v: [Float]) throws(ParameterError) {
        guard m.count == firstMoment.count else { throw .shapeMismatch("adam.m", expected: [firstMoment.count], found: [m.count]) }
        guard v.count == secondMoment.count else { throw .shapeMismatch("adam.v", expected: [secondMoment.count], found: [v.count]) }
        self.step = step
        firstMoment.assign(from: FloatBuffer(m))
        secondMoment.assign(from: FloatBuffer(v))
    }

    /// θ ← θ − lr·m̂/(√v̂ + ε) using the gradients in `parameters.grads`.
    public func update(_ parameters: ParameterStore) {
        precondition(parameters.count == firstMoment.count, "Adam was made for another parameter count")
        step += 1
        let t = Double(step)
        let correction1 = Float(1 - pow(Double(beta1), t))
        let correction2 = Float(1 - pow(Double(beta2), t))
        let stepSize = learningRate / correction1
        let rootCorrection2 = correction2.squareRoot()
        let b1 = beta1, b2 = beta2, eps = epsilon
        let w = parameters.values.pointer, g = parameters.grads.pointer
        let m = firstMoment.pointer, v = secondMoment.pointer
        for i in 0..<parameters.count {
            let gi = g[i]
            let mi = b1 * m[i] + (1 - b1) * gi
            let vi = b2 * v[i] + (1 - b2) * gi * gi
            m[i] = mi
            v[i] = vi
            w[i] -= stepSize * mi / (vi.squareRoot() / rootCorrection2 + eps)
        }
    }
}

/// An exponential moving average of the weights, used for sampling.
/// The decay ramps up as min(decay, (1 + t)/(10 + t)) so early averages are not dominated by the initialisation.
public final class ExponentialMovingAverage {
    public let decay: Float
    public let average: ParameterStore
    public private(set) var updates: Int = 0

    public init(of parameters: ParameterStore, decay: Float = 0.999) {
        self.decay = decay
        average = parameters.copy()
    }

    public func restore(updates: Int) { self.updates = updates }

    public func update(from parameters: ParameterStore) {
        precondition(parameters.count == average.count, "EMA was made for another parameter count")
        updates += 1
        let t = Float(updates)
        let d = min(decay, (1 + t) / (10 + t))
        let a = average.values.pointer, w = parameters.values.pointer
        for i in 0..<parameters.count { a[i] = d * a[i] + (1 - d) * w[i] }
    }
}
