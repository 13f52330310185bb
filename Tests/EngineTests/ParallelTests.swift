import Engine
import Foundation
import TestSupport
import Testing

/// The fast paths: vector exp/SiLU, batches split across threads, the fused optimizer pass, the
/// shared embedding.
@Suite struct ParallelTests {
    /// Every variant this CPU runs (the vector polynomial is compiled once per instruction set).
    @Test(arguments: CPU.runnable.map { $0.name })
    func vectorExpMatchesLibmToAFewUlps(variant: String) throws {
        let kernels = try #require(CPU.runnable.first { $0.name == variant })
        let x = FloatBuffer(Array(stride(from: Float(-87), to: 88, by: 0.0013 * 8)))
        let count = x.count / 8 * 8
        let e = FloatBuffer(count: count)
        kernels.exp(x.pointer, e.pointer, count: count)
        let exact = (0..<count).map { Foundation.exp(Double(x[$0])) }
        // Rounding the result costs ε/2, the reduction by a two-part ln 2 at most ε, and the
        // polynomial's own error with its Horner steps (fused or not) at most 2.5ε: 4ε in all.
        let close = Closeness(
            (0..<count).map { e[$0] }, exact, within: .relative(4 * Tolerance.epsilon))
        #expect(close.holds, "\(close)")
        // Beyond the clamp the result stays finite and positive instead of overflowing or wrapping
        // the exponent.
        let extremes = FloatBuffer([-1000, -100, -88, 89, 100, 1000, 0, 1])
        let out = FloatBuffer(count: 8)
        kernels.exp(extremes.pointer, out.pointer, count: 8)
        for i in 0..<8 { #expect(out[i].isFinite && out[i] >= 0) }
        #expect(out[6] == 1)
        #expect(abs(out[7] - Float(M_E)) < 1e-6)
    }

    @Test func vectorSiluMatchesTheScalarFormulaIncludingTails() {
        var rng = RandomSource(seed: 4)
        let z = FloatBuffer((0..<1003).map { _ in Float(rng.normal() * 20) })
        let out = FloatBuffer(count: z.count)
        let grad = FloatBuffer(count: z.count)
        let ones = FloatBuffer(count: z.count, repeating: 1)
        Kernels.silu(z.pointer, out.pointer, count: z.count)
        Kernels.siluBackward(z.pointer, ones.pointer, grad.pointer, count: z.count)
        for i in 0..<z.count {
            let v = Double(z[i])
            let s = 1 / (1 + Foundation.exp(-v))
            #expect(abs(Double(out[i]) - v * s) <= 1e-6 * max(1, abs(v)), "silu(\(v))")
            #expect(abs(Double(grad[i]) - s * (1 + v * (1 - s))) <= 1e-6, "silu'(\(v))")
        }
    }

    func trainer(
        threads: Int, data: String = "checkerboard", dim: Int = 2, batch: Int = 77,
        architecture: NetworkArchitecture = .mlpEDM
    ) throws -> Trainer {
        var rng = RandomSource(seed: 9)
        let points =
            data == "manifold"
            ? ToyData.manifold(dim: dim, count: 512, rng: &rng)
            : try #require(ToyData.draw(data, count: 2048, rng: &rng))
        var config = TrainingConfig(
            data: data, dim: dim, augmentedDimension: .finite(128), sigmaData: 0.5, steps: 10)
        config.architecture = architecture
        config.width = architecture == .unet ? 32 : 40
        config.depth = architecture == .unet ? 1 : 2
        config.batch = batch
        config.seed = 5
        let t = try Trainer(config: config, data: points)
        t.threads = threads
        return t
    }

    @Test(arguments: [("checkerboard", 2), ("manifold", 16)])
    func aBatchSplitAcrossThreadsGivesTheWholeBatchsGradient(data: String, dim: Int) throws {
        let one = try trainer(threads: 1, data: data, dim: dim)
        let three = try trainer(threads: 3, data: data, dim: dim)
        // 77 rows with at least 16 per part: three threads cut the batch into 25/26/26 rows.
        for _ in 0..<3 {
            let l1 = one.computeGradients()
            let l3 = three.computeGradients()
            #expect(abs(l1 - l3) <= 1e-5 * abs(l1))
            let g1 = one.summedGradient()
            let g3 = three.summedGradient()
            let scale = g1.map { abs($0) }.max() ?? 0
            let diff = zip(g1, g3).map { abs($0 - $1) }.max() ?? 0
            // Only the order of float32 sums differs; a missing or doubled part would differ by
            // O(scale).
            #expect(scale > 0)
            #expect(diff <= 1e-4 * scale, "max gradient difference \(diff) of \(scale)")
        }
    }

    /// More threads than this machine has cores: the split, the replicas' gradient sums and the
    /// optimizer's ranges stay exact up to the order of float32 sums (MLP on 2-D data, U-Net on 8×8
    /// images).
    @Test(arguments: [
        (2, "mlp-edm"), (4, "mlp-edm"), (8, "mlp-edm"), (16, "mlp-edm"), (16, "unet"), (5, "unet"),
    ])
    func manyThreadsGiveTheOneThreadGradient(threads: Int, name: String) throws {
        let architecture = try #require(NetworkArchitecture(rawValue: name))
        let unet = architecture == .unet
        let (data, dim, batch) = unet ? ("manifold", 64, 48) : ("checkerboard", 2, 300)
        let one = try trainer(
            threads: 1, data: data, dim: dim, batch: batch, architecture: architecture)
        let many = try trainer(
            threads: threads, data: data, dim: dim, batch: batch, architecture: architecture)
        let l1 = one.computeGradients()
        let ln = many.computeGradients()
        let parts = Compute.parts(
            rows: batch, minRows: min(16, many.network.minRowsPerPart), threads: threads)
        #expect(
            parts == min(threads, batch / min(16, many.network.minRowsPerPart)), "parts \(parts)")
        let g1 = one.summedGradient()
        let gn = many.summedGradient()
        let scale = g1.map { abs($0) }.max() ?? 0
        let diff = zip(g1, gn).map { abs($0 - $1) }.max() ?? 0
        // Float32 sums of up to 300 rows in another order: ~1e-6 of the scale; a lost part is
        // O(scale).
        #expect(
            abs(l1 - ln) <= 1e-5 * abs(l1) && scale > 0 && diff <= 1e-4 * scale,
            "\(diff) of \(scale)")
        for _ in 0..<3 {
            one.trainStep()
            many.trainStep()
        }
        let w1 = one.network.parameters.values.array
        let wn = many.network.parameters.values.array
        #expect(
            zip(w1, wn).allSatisfy { abs($0 - $1) <= 1e-4 },
            "weights drift apart at \(threads) threads")
    }

    @Test func splitTrainingFollowsTheSameTrajectory() throws {
        let one = try trainer(threads: 1)
        let two = try trainer(threads: 2)
        var losses: [(Float, Float)] = []
        for _ in 0..<30 { losses.append((one.trainStep(), two.trainStep())) }
        for (a, b) in losses { #expect(abs(a - b) <= 1e-3 * abs(a)) }
        let w1 = one.ema.average.values.array
        let w2 = two.ema.average.values.array
        #expect(zip(w1, w2).allSatisfy { abs($0 - $1) <= 1e-4 })
    }

    @Test func fusedOptimizerPassEqualsAdamThenEma() {
        var rng = RandomSource(seed: 12)
        let count = 1001
        func store() -> ParameterStore {
            var layout = ParameterLayout()
            _ = layout.add(
                "w", shape: [count], role: .weight,
                initial: (0..<count).map { Float($0 % 13) * 0.1 - 0.6 })
            return layout.makeStore()
        }
        let plain = store()
        let fused = store()
        let adamPlain = Adam(parameterCount: count, learningRate: 0.01)
        let adamFused = Adam(parameterCount: count, learningRate: 0.01)
        let emaPlain = ExponentialMovingAverage(of: plain, decay: 0.9)
        let emaFused = ExponentialMovingAverage(of: fused, decay: 0.9)
        let half1 = FloatBuffer(count: count)
        let half2 = FloatBuffer(count: count)
        for _ in 0..<5 {
            for i in 0..<count {
                half1[i] = Float(rng.normal())
                half2[i] = Float(rng.normal())
                plain.grads[i] = half1[i] + half2[i]
            }
            adamPlain.update(plain)
            emaPlain.update(from: plain)
            let step = adamFused.beginStep()
            let decay = emaFused.beginUpdate()
            // Two ranges, as two threads would take them, with the gradient in two buffers.
            for range in [0..<500, 500..<count] {
                adamFused.apply(
                    step, values: fused.values.pointer, gradients: [half1.pointer, half2.pointer],
                    range: range, average: (emaFused.average.values.pointer, decay))
            }
        }
        // The fused pass sums the two gradient halves and does Adam's and the average's few
        // operations in another order: a few ulps per step, over 5 steps.
        let values = Closeness(plain.values.array, fused.values.array, within: .ulps(16))
        let averages = Closeness(
            emaPlain.average.values.array, emaFused.average.values.array, within: .ulps(16))
        #expect(values.holds, "\(values)")
        #expect(averages.holds, "\(averages)")
    }

    @Test func denoiserGivesTheSameOutputOnAnyNumberOfThreads() {
        let net = MLPEDM(config: MLPEDMConfig(dim: 3, width: 24, depth: 2), seed: 3)
        let one = NetworkDenoiser(network: net, sigmaData: 0.5)
        let two = NetworkDenoiser(network: net, sigmaData: 0.5)
        one.threads = 1
        two.threads = 2
        var rng = RandomSource(seed: 1)
        let rows = 50
        let x = FloatBuffer((0..<(rows * 3)).map { _ in Float(rng.normal()) })
        let a = FloatBuffer(count: rows * 3)
        let b = FloatBuffer(count: rows * 3)
        one.denoise(x.pointer, rows: rows, sigma: 0.7, into: a.pointer)
        two.denoise(x.pointer, rows: rows, sigma: 0.7, into: b.pointer)
        // The shared-embedding path against the per-row path of a forward pass kept for backward.
        let c = FloatBuffer((0..<rows).map { _ in Float(log(0.7) / 4) })
        let scaled = FloatBuffer((0..<(rows * 3)).map { x[$0] / Float((0.49 + 0.25).squareRoot()) })
        let perRow = FloatBuffer(count: rows * 3)
        net.forward(scaled.pointer, cNoise: c.pointer, rows: rows, into: perRow.pointer)
        let cSkip: Float = 0.25 / 0.74
        let cOut = Float(0.7 * 0.5 / 0.74.squareRoot())
        for i in 0..<(rows * 3) {
            #expect(abs(a[i] - b[i]) <= 1e-5)
            #expect(abs(a[i] - (cSkip * x[i] + cOut * perRow[i])) <= 1e-5)
        }
    }
}
