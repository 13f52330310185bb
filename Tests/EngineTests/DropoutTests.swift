import Engine
import Foundation
import KernelInterface
import Testing

/// Dropout in training: its share and scale, the same decisions however a batch is cut into
/// parts, backward through the dropped units of both networks, and none when sampling.
@Suite struct DropoutTests {
    /// p = 0.3 over 100,000 units: the dropped share within 0.006 of p (its sd is 0.00145, so
    /// four of them), the kept units scaled by 1/0.7.
    @Test func itDropsItsShareAndScalesTheRest() {
        var x = [Float](repeating: 1, count: 100_000)
        let dropout = Dropout(probability: 0.3, seed: 4, step: 17)
        x.withUnsafeMutableBufferPointer {
            guard let base = $0.baseAddress else { return }
            dropout.apply(base, rows: 1000, width: 100, block: 2)
        }
        let zeros = Double(x.filter { $0 == 0 }.count) / Double(x.count)
        #expect(abs(zeros - 0.3) < 0.006, "\(zeros)")
        #expect(x.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
    }

    /// Rows 0…9 at once, or rows 0…3 and 4…9 as two parts: the same units drop; another step, block
    /// or seed drops others.
    @Test func theDecisionsDoNotDependOnHowTheBatchIsCut() {
        func masks(_ d: Dropout, rows: Int) -> [Float] {
            var x = [Float](repeating: 1, count: rows * 32)
            x.withUnsafeMutableBufferPointer {
                guard let base = $0.baseAddress else { return }
                d.apply(base, rows: rows, width: 32, block: 1)
            }
            return x
        }
        let whole = masks(Dropout(probability: 0.5, seed: 1, step: 3), rows: 10)
        let first = masks(Dropout(probability: 0.5, seed: 1, step: 3, firstRow: 0), rows: 4)
        let second = masks(Dropout(probability: 0.5, seed: 1, step: 3, firstRow: 4), rows: 6)
        #expect(whole == first + second)
        #expect(whole != masks(Dropout(probability: 0.5, seed: 1, step: 4), rows: 10))
        #expect(whole != masks(Dropout(probability: 0.5, seed: 2, step: 3), rows: 10))
        var framed = [Float](repeating: 1, count: 2 * 6 * 6 * 3)
        var plain = [Float](repeating: 1, count: 2 * 4 * 4 * 3)
        let g = ImageGeometry(images: 2, height: 4, width: 4)
        let d = Dropout(probability: 0.5, seed: 9, step: 1)
        framed.withUnsafeMutableBufferPointer {
            guard let base = $0.baseAddress else { return }
            d.apply(images: base, g, channels: 3, block: 0, framed: true)
        }
        plain.withUnsafeMutableBufferPointer {
            guard let base = $0.baseAddress else { return }
            d.apply(images: base, g, channels: 3, block: 0, framed: false)
        }
        // The framed copy drops the same (pixel, channel) units as the plain one.
        for image in 0..<2 {
            for q in 0..<16 {
                for c in 0..<3 {
                    let f = framed[g.framedPixel(image: image, pixel: q) * 3 + c]
                    #expect(f == plain[(image * 16 + q) * 3 + c])
                }
            }
        }
    }

    /// Backward through dropout, by directional differences, with the same bar as the networks'
    /// own checks; and sampling (no values kept) drops nothing.
    @Test(arguments: ["mlp", "unet"])
    func gradientsPassThroughTheKeptUnitsOnly(_ kind: String) {
        let net: any DenoiserNetwork =
            kind == "mlp"
            ? MLPEDM(
                config: MLPEDMConfig(dim: 6, width: 8, depth: 2, embeddingChannels: 8), seed: 5)
            : UNet(config: UNetConfig(side: 8, width: 8, depth: 1, embeddingChannels: 8), seed: 6)
        var rng = RandomSource(seed: 7)
        let rows = 3
        let n = net.dim
        let x = FloatBuffer(randomMatrix(rows, n, &rng).storage)
        let c = FloatBuffer((0..<rows).map { _ in Float(rng.normal() * 0.6) })
        let gy = randomMatrix(rows, n, &rng).storage
        var out = [Float](repeating: 0, count: rows * n)
        func run(keep: Bool) -> [Float] {
            net.forward(
                x.pointer, cNoise: c.pointer, cAug: nil, rows: rows, into: &out,
                keepForBackward: keep)
            return out
        }
        let plain = run(keep: true)
        let sampledWithout = run(keep: false)
        net.dropout = Dropout(probability: 0.4, seed: 3, step: 0)
        #expect(run(keep: true) != plain, "dropout changed nothing")
        #expect(run(keep: false) == sampledWithout, "sampling must not drop")
        let loss = { () -> Double in
            _ = run(keep: true)
            return GradientTests.projection(out, gy)
        }
        _ = loss()
        var gradX = [Float](repeating: 0, count: rows * n)
        var gradC = [Float](repeating: 0, count: rows)
        net.backward(gradOut: gy, gradX: &gradX, gradCNoise: &gradC)
        var check = DirectionalGradientCheck()
        check.checkNetwork(
            net.parameters, inputs: [("x", x.pointer, gradX), ("c_noise", c.pointer, gradC)],
            loss)
        #expect(check.worst < 1e-2, "\(check.worstName)")
    }

    /// A run's dropout goes into config.json and back; 0 is no dropout, and training with it
    /// differs from training without.
    @Test func theTrainerDropsWhenTheConfigSays() throws {
        var c = TrainingConfig(
            data: "moons", dim: 2, augmentedDimension: .infinite, sigmaData: 1, steps: 10)
        (c.width, c.depth, c.batch) = (16, 2, 32)
        var rng = RandomSource(seed: 2)
        let data = randomMatrix(200, 2, &rng)
        func weights(_ config: TrainingConfig) throws -> [Float] {
            let trainer = try Trainer(config: config, data: data)
            trainer.threads = 1
            for _ in 0..<3 { trainer.trainStep() }
            return trainer.network.parameters.values.array
        }
        let without = try weights(c)
        var zero = c
        TrainingSchedule(dropout: 0).apply(to: &zero)
        let zeroWeights = try weights(zero)
        #expect(zero.dropout == nil && zeroWeights == without)
        var dropping = c
        TrainingSchedule(dropout: 0.2).apply(to: &dropping)
        let dropped = try weights(dropping)
        #expect(dropped != without)
        let run = RunDirectory(temporaryDirectory() + "/run")
        try run.create()
        try run.writeConfig(dropping)
        let back = try run.readConfig()
        #expect(back.dropout == 0.2)
        dropping.dropout = 1
        #expect(dropping.problem != nil)
    }
}
