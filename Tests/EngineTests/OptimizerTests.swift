import Engine
import Foundation
import Testing

@Suite struct OptimizerTests {
    func store(_ values: [Float]) -> ParameterStore {
        var layout = ParameterLayout()
        _ = layout.add("w", shape: [values.count], role: .weight, initial: values)
        return layout.makeStore()
    }

    @Test func adamFirstStepMovesEachWeightByTheLearningRate() {
        // With bias correction, m̂ = g and v̂ = g² after one step, so Δw = −lr·g/(|g| + ε) ≈
        // −lr·sign(g).
        let p = store([1, -2, 3])
        let grads: [Float] = [0.5, -4, 1e-3]
        for i in 0..<3 { p.grads[i] = grads[i] }
        let adam = Adam(parameterCount: 3, learningRate: 0.1)
        adam.update(p)
        #expect(abs(p.values[0] - 0.9) < 1e-5)
        #expect(abs(p.values[1] - (-1.9)) < 1e-5)
        #expect(abs(p.values[2] - 2.9) < 1e-4)
        #expect(adam.step == 1)
    }

    @Test func adamMinimisesAQuadratic() {
        let target: [Float] = [3, -1, 0.5, 2]
        let p = store([0, 0, 0, 0])
        let adam = Adam(parameterCount: 4, learningRate: 0.05)
        for _ in 0..<2000 {
            for i in 0..<4 { p.grads[i] = 2 * (p.values[i] - target[i]) }
            adam.update(p)
        }
        for i in 0..<4 { #expect(abs(p.values[i] - target[i]) < 1e-2) }
    }

    @Test func emaRampsUpThenUsesItsDecay() {
        let p = store([0])
        let ema = ExponentialMovingAverage(of: p, decay: 0.99)
        p.values[0] = 1
        ema.update(from: p)
        // First update: decay min(0.99, 2/11), so the average moves 9/11 of the way.
        #expect(abs(ema.average.values[0] - 9.0 / 11) < 1e-6)
        for _ in 0..<2000 { ema.update(from: p) }
        #expect(abs(ema.average.values[0] - 1) < 1e-6)
        // Past the ramp the decay is 0.99: ten updates towards 2 close 1 − 0.99¹⁰ of the gap.
        p.values[0] = 2
        for _ in 0..<10 { ema.update(from: p) }
        #expect(abs(ema.average.values[0] - (2 - Float(pow(0.99, 10.0)))) < 1e-4)
        #expect(p.values[0] == 2)
    }

    @Test func loadRejectsMissingAndMisshapenTensors() {
        let p = store([1, 2])
        #expect(throws: ParameterError.missing("w")) { try p.load([]) }
        #expect(throws: ParameterError.shapeMismatch("w", expected: [2], found: [3])) {
            try p.load([NamedTensor(name: "w", shape: [3], values: [1, 2, 3])])
        }
        #expect(throws: ParameterError.unexpected("v")) {
            try p.load([
                NamedTensor(name: "w", shape: [2], values: [5, 6]),
                NamedTensor(name: "v", shape: [1], values: [0]),
            ])
        }
        #expect(throws: Never.self) {
            try p.load([NamedTensor(name: "w", shape: [2], values: [5, 6])])
        }
        #expect(p.values.array == [5, 6])
    }
}

@Suite struct TrainingTests {
    @Test func regressionTrainingLowersTheLoss() {
        // Forward, backward and Adam together: fit y = (sin 2x₀, x₀x₁) with the noise input as a
        // third feature.
        let config = MLPEDMConfig(dim: 2, width: 32, depth: 2, embeddingChannels: 16)
        let net = MLPEDM(config: config, seed: 1)
        let adam = Adam(parameterCount: net.parameters.count, learningRate: 3e-3)
        var rng = RandomSource(seed: 2)
        let batch = 64
        let x = randomMatrix(batch, 2, &rng)
        let c = (0..<batch).map { _ in Float(rng.normal()) }
        var y = Matrix(rows: batch, cols: 2)
        for r in 0..<batch {
            y[r, 0] = sin(2 * x[r, 0]) + 0.3 * c[r]
            y[r, 1] = x[r, 0] * x[r, 1]
        }
        func step() -> Float {
            let out = net.forward(x, cNoise: c)
            var grad = Matrix(rows: batch, cols: 2)
            var loss: Float = 0
            for i in 0..<out.count {
                let d = out.storage[i] - y.storage[i]
                loss += d * d / Float(batch)
                grad.storage[i] = 2 * d / Float(batch)
            }
            _ = net.backward(grad)
            adam.update(net.parameters)
            return loss
        }
        let initial = step()
        var final = initial
        for _ in 0..<400 { final = step() }
        #expect(final < 0.1 * initial, "loss went from \(initial) to \(final)")
        #expect(net.parameters.isFinite)
    }
}
