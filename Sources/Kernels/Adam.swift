import KernelInterface

enum Adam {
    /// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ − step·m/(√v/√(1 − β₂ᵗ) + ε), and a ← d·a +
    /// (1 − d)·θ, in one pass over memory.
    static func update(_ s: AdamStep, _ b: AdamBuffers, range: Range<Int>) {
        let g = b.gradient
        let g2 = b.otherGradient
        let m = b.first
        let v = b.second
        let w = b.weights
        let a = b.average
        let d = b.decay
        let b1 = Vec8(repeating: s.beta1)
        let b2 = Vec8(repeating: s.beta2)
        let size = Vec8(repeating: s.stepSize)
        let root = Vec8(repeating: 1 / s.rootCorrection2)
        let eps = Vec8(repeating: s.epsilon)
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            var gi = g.vec(i)
            if let g2 { gi += g2.vec(i) }
            let mi = b1 * m.vec(i) + (1 - b1) * gi
            let vi = b2 * v.vec(i) + (1 - b2) * gi * gi
            m.store(mi, at: i)
            v.store(vi, at: i)
            let wi = w.vec(i) - size * mi / (vi.squareRoot() * root + eps)
            w.store(wi, at: i)
            if let a { a.store(d * a.vec(i) + (1 - d) * wi, at: i) }
            i += 8
        }
        while i < range.upperBound {
            let gi = g[i] + (g2?[i] ?? 0)
            m[i] = s.beta1 * m[i] + (1 - s.beta1) * gi
            v[i] = s.beta2 * v[i] + (1 - s.beta2) * gi * gi
            w[i] -= s.stepSize * m[i] / (v[i].squareRoot() / s.rootCorrection2 + s.epsilon)
            if let a { a[i] = d * a[i] + (1 - d) * w[i] }
            i += 1
        }
    }
}
