import Engine
import Foundation
import TestSupport
import Testing

/// Gradient checks: every analytic derivative against a central difference, relative error < 1e-2.
@Suite struct GradientTests {
    /// Loss Σ G⊙y with a fixed random G, so dLoss/dy = G.
    static func projection(_ y: UnsafePointer<Float>, _ g: [Float]) -> Double {
        var s = 0.0
        for i in 0..<g.count { s += Double(y[i]) * Double(g[i]) }
        return s
    }

    @Test func linear() {
        var rng = RandomSource(seed: 11)
        var layout = ParameterLayout()
        let layer = Linear("fc", in: 4, out: 3, layout: &layout, rng: &rng)
        let p = layout.makeStore()
        let rows = 5
        let x = FloatBuffer(randomMatrix(rows, 4, &rng).storage)
        let g = randomMatrix(rows, 3, &rng).storage
        var y = [Float](repeating: 0, count: rows * 3)
        var gradX = [Float](repeating: 0, count: rows * 4)
        let loss = { () -> Double in
            layer.forward(x.pointer, rows: rows, into: &y, parameters: p)
            return Self.projection(y, g)
        }
        _ = loss()
        layer.backward(x.pointer, gradY: g, rows: rows, gradX: &gradX, parameters: p)
        var cmp = GradientComparison()
        for slot in p.slots {
            for i in 0..<slot.count {
                cmp.compare(
                    "\(slot.name)[\(i)]", analytic: p.grad(slot)[i],
                    numeric: centralDifference(p.value(slot) + i, loss))
            }
        }
        for i in sampleIndices(x.count, max: 48, rng: &rng) {
            cmp.compare(
                "x[\(i)]", analytic: gradX[i], numeric: centralDifference(x.pointer + i, loss))
        }
        #expect(cmp.worst < 1e-2, "\(cmp.worstName)")
        #expect(cmp.checked == 12 + 3 + 20)
    }

    @Test func layerNormWithSiLU() {
        var rng = RandomSource(seed: 12)
        var layout = ParameterLayout()
        let norm = LayerNorm("ln", features: 6, layout: &layout)
        let p = layout.makeStore()
        for slot in p.slots {
            for i in 0..<slot.count { p.value(slot)[i] += 0.3 * Float(rng.normal()) }
        }
        let rows = 4
        let n = 6
        let x = FloatBuffer(randomMatrix(rows, n, &rng, scale: 2).storage)
        let g = randomMatrix(rows, n, &rng).storage
        var y = [Float](repeating: 0, count: rows * n)
        var xhat = y
        var act = y
        var rstd = [Float](repeating: 0, count: rows)
        let loss = { () -> Double in
            norm.forward(
                x.pointer, rows: rows, into: &y, normalized: &xhat, inverseStd: &rstd,
                siluOut: &act, parameters: p)
            return Self.projection(act, g)
        }
        _ = loss()
        var gradY = [Float](repeating: 0, count: rows * n)
        var gradX = gradY
        Kernels.siluBackward(y, g, &gradY, count: rows * n)
        norm.backward(
            gradY: gradY, normalized: xhat, inverseStd: rstd, rows: rows, gradX: &gradX,
            parameters: p)
        var cmp = GradientComparison()
        for slot in p.slots {
            for i in 0..<slot.count {
                cmp.compare(
                    "\(slot.name)[\(i)]", analytic: p.grad(slot)[i],
                    numeric: centralDifference(p.value(slot) + i, loss))
            }
        }
        for i in sampleIndices(x.count, max: 48, rng: &rng) {
            cmp.compare(
                "x[\(i)]", analytic: gradX[i], numeric: centralDifference(x.pointer + i, loss))
        }
        #expect(cmp.worst < 1e-2, "\(cmp.worstName)")
        // The fused pass (silu' from y = γx̂ + β recomputed inside) gives the same gradients.
        _ = loss()
        let unfused = p.grads.array
        var fusedX = [Float](repeating: 0, count: rows * n)
        norm.backward(
            gradY: g, throughSilu: true, normalized: xhat, inverseStd: rstd, rows: rows,
            gradX: &fusedX, parameters: p)
        // Per row, two sums over the n features (of g and of g·x̂) and silu' recomputed from
        // γx̂ + β (a few operations a term): 2n + 8 terms in another order, at the gradients'
        // scale.
        let scale = (gradX + unfused).map { Double(abs($0)) }.max() ?? 1
        let reordered = Tolerance.reordered(terms: 2 * n + 8, magnitude: scale)
        let inputs = Closeness(fusedX, gradX, within: reordered)
        let weights = Closeness(p.grads.array, unfused, within: reordered)
        #expect(inputs.holds, "\(inputs)")
        #expect(weights.holds, "\(weights)")
    }

    @Test func siluAlone() {
        let z = FloatBuffer([-4, -1.5, -0.2, 0, 0.3, 2, 5])
        let g: [Float] = [0.5, -1, 2, 1, -0.7, 0.4, 1.1]
        var out = [Float](repeating: 0, count: z.count)
        var grad = out
        Kernels.siluBackward(z.pointer, g, &grad, count: z.count)
        var cmp = GradientComparison()
        for i in 0..<z.count {
            let numeric = centralDifference(z.pointer + i) {
                Kernels.silu(z.pointer, &out, count: z.count)
                return Self.projection(out, g)
            }
            cmp.compare("z[\(i)]", analytic: grad[i], numeric: numeric)
        }
        #expect(cmp.worst < 1e-2, "\(cmp.worstName)")
    }

    @Test func sinusoidalEmbedding() {
        let emb = SinusoidalEmbedding(channels: 8)
        let c = FloatBuffer([-1.2, -0.3, 0.1, 0.9])
        var rng = RandomSource(seed: 13)
        let g = randomMatrix(4, 8, &rng).storage
        var out = [Float](repeating: 0, count: 32)
        var grad = [Float](repeating: 0, count: 4)
        emb.backward(c.pointer, gradOut: g, rows: 4, into: &grad)
        var cmp = GradientComparison()
        for i in 0..<4 {
            let numeric = centralDifference(c.pointer + i, h: 1e-3) {
                emb.forward(c.pointer, rows: 4, into: &out)
                return Self.projection(out, g)
            }
            cmp.compare("c[\(i)]", analytic: grad[i], numeric: numeric)
        }
        #expect(cmp.worst < 1e-2, "\(cmp.worstName)")
        emb.forward(c.pointer, rows: 4, into: &out)
        #expect(abs(out[0] - cos(-1.2)) < 1e-6 && abs(out[4] - sin(-1.2)) < 1e-6)
    }

    /// Also the one-network form, with D as a second condition (c_aug per row through map_aug).
    /// Width 8 runs every product through sgemm; width 32 with N = 32 runs them all through the
    /// vector kernel.
    @Test(arguments: [(false, 8, 3), (true, 8, 3), (true, 32, 32)])
    func wholeMLPEDMIncludingEmbeddingPathAndInputs(conditionedOnD: Bool, width: Int, dim n: Int) {
        let config = MLPEDMConfig(
            dim: n, width: width, depth: 2, embeddingChannels: 8,
            conditionsOnAugmentedDimension: conditionedOnD)
        let net = MLPEDM(config: config, seed: 21)
        var rng = RandomSource(seed: 22)
        let rows = 5
        let x = FloatBuffer(randomMatrix(rows, n, &rng).storage)
        let c = FloatBuffer((0..<rows).map { _ in Float(rng.normal() * 0.6) })
        let aug = FloatBuffer((0..<rows).map { _ in Float(8 * rng.uniform()) })
        let g = randomMatrix(rows, n, &rng).storage
        var out = [Float](repeating: 0, count: rows * n)
        let loss = { () -> Double in
            net.forward(
                x.pointer, cNoise: c.pointer, cAug: conditionedOnD ? aug.pointer : nil, rows: rows,
                into: &out,
                keepForBackward: true)
            return Self.projection(out, g)
        }
        _ = loss()
        var gradX = [Float](repeating: 0, count: rows * n)
        var gradC = [Float](repeating: 0, count: rows)
        net.backward(gradOut: g, gradX: &gradX, gradCNoise: &gradC)
        let p = net.parameters
        var check = DirectionalGradientCheck()
        check.checkNetwork(
            p, inputs: [("x", x.pointer, gradX), ("c_noise", c.pointer, gradC)], loss)
        // The bar and its arithmetic as in ConvolutionTests' whole U-Net: per-coordinate
        // differences of a whole network carry the loss's round-off divided by a small step, which
        // depends on the kernels that ran.
        #expect(check.worst < 1e-2, "\(check.worstName)")
        #expect(check.checked >= 2 * p.slots.count)
        #expect(p.slots.map(\.name).contains("map_layer0.weight"))
        #expect(p.slots.count == 2 + 2 + 2 + 2 * 4 + 2 + 2 + (conditionedOnD ? 2 : 0))
        if conditionedOnD {
            #expect(p.slots.map(\.name).suffix(2) == ["map_aug.weight", "map_aug.bias"])
            // The D path matters: another c_aug changes the output.
            let before = out
            aug[0] += 1
            _ = loss()
            #expect(zip(before, out).contains { $0 != $1 })
        }
    }
}
