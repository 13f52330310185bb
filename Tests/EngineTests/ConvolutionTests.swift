import Engine
import Foundation
import TestSupport
import Testing

/// Gradient checks of the image layers and the whole U-Net (relative error < 1e-2, as in
/// GradientTests), and the inference path against the training path.
@Suite struct ConvolutionTests {
    func projection(_ y: UnsafePointer<Float>, _ g: [Float]) -> Double {
        var s = 0.0
        for i in 0..<g.count { s += Double(y[i]) * Double(g[i]) }
        return s
    }

    func jitter(_ p: ParameterStore, _ rng: inout RandomSource, scale: Double = 0.3) {
        for i in 0..<p.count { p.values.pointer[i] += Float(scale * rng.normal()) }
    }

    func compareAll(
        _ p: ParameterStore, analytic: [Float], _ cmp: inout GradientComparison,
        _ rng: inout RandomSource,
        floor: Double = 1e-2, _ loss: () -> Double
    ) {
        for slot in p.slots {
            for i in sampleIndices(slot.count, max: 16, rng: &rng) {
                cmp.compare(
                    "\(slot.name)[\(i)]", analytic: analytic[slot.offset + i],
                    numeric: centralDifference(p.value(slot) + i, loss), floor: floor)
            }
        }
    }

    @Test func convolution3x3() {
        var rng = RandomSource(seed: 31)
        var layout = ParameterLayout()
        let conv = Convolution3x3("conv", in: 2, out: 3, layout: &layout, rng: &rng)
        let p = layout.makeStore()
        let g = ImageGeometry(images: 2, height: 3, width: 4)
        let x = FloatBuffer(randomMatrix(g.pixels, 2, &rng).storage)
        let gy = randomMatrix(g.pixels, 3, &rng).storage
        var y = [Float](repeating: 0, count: g.pixels * 3)
        var gradX = [Float](repeating: 0, count: g.pixels * 2)
        var ws = ConvolutionWorkspace()
        let loss = { () -> Double in
            conv.forward(x.pointer, g, into: &y, parameters: p, workspace: &ws)
            return projection(y, gy)
        }
        _ = loss()
        conv.backward(x.pointer, gradY: gy, g, gradX: &gradX, parameters: p, workspace: &ws)
        var cmp = GradientComparison()
        compareAll(p, analytic: p.grads.array, &cmp, &rng, loss)
        for i in 0..<x.count {
            cmp.compare(
                "x[\(i)]", analytic: gradX[i], numeric: centralDifference(x.pointer + i, loss))
        }
        #expect(cmp.worst < 1e-2, "\(cmp.worstName)")
        // One output value by hand: the centre tap sees x itself, the corner pixel has four
        // in-image taps.
        let w = p.value(p.slots[0])
        let b = p.value(p.slots[1])
        var expected = b[1]
        for ci in 0..<2 {
            for (tap, pixel) in [(4, 0), (5, 1), (7, 4), (8, 5)] {
                expected += w[(1 * 2 + ci) * 9 + tap] * x[pixel * 2 + ci]
            }
        }
        _ = loss()
        #expect(abs(y[1] - expected) < 1e-5)
    }

    /// The direct kernels against im2col + sgemm, both accumulating and not: 32-channel blocks with
    /// one and two blocks, rows that split into unequal pixel blocks (9, 17), a single input
    /// channel (the U-Net's input), one and three output channels (the output convolution: sums
    /// along the input channels), and input channels neither kernel takes (40 → 3: im2col
    /// throughout).
    @Test(arguments: [
        (32, 32, 5, 9), (1, 32, 4, 4), (32, 1, 3, 7), (64, 3, 5, 6), (40, 3, 2, 5), (64, 32, 3, 17),
        (32, 64, 2, 3), (40, 32, 6, 14),
    ])
    func directPathMatchesIm2col(inChannels: Int, outChannels: Int, height: Int, width: Int) {
        var rng = RandomSource(seed: 38)
        var layout = ParameterLayout()
        let conv = Convolution3x3(
            "conv", in: inChannels, out: outChannels, layout: &layout, rng: &rng)
        let p = layout.makeStore()
        let g = ImageGeometry(images: 3, height: height, width: width)
        let x = randomMatrix(g.pixels, inChannels, &rng).storage
        let gy = randomMatrix(g.pixels, outChannels, &rng).storage
        let start = randomMatrix(g.pixels, outChannels, &rng).storage
        let startX = randomMatrix(g.pixels, inChannels, &rng).storage
        func run(_ path: ConvolutionPath, accumulate: Bool) -> [Float] {
            var ws = ConvolutionWorkspace()
            var y = accumulate ? start : [Float](repeating: 9, count: start.count)
            var gradX = accumulate ? startX : [Float](repeating: 9, count: startX.count)
            conv.forward(
                x, g, into: &y, parameters: p, workspace: &ws, accumulate: accumulate, path: path)
            conv.backward(
                x, gradY: gy, g, gradX: &gradX, accumulateGradX: accumulate, parameters: p,
                workspace: &ws, path: path)
            // A bias per image (and one shared by all) with a scale, as the U-Net's blocks use
            // them.
            var biased = accumulate ? start : [Float](repeating: 9, count: start.count)
            var shared = biased
            imageBias.withUnsafeBufferPointer { b in
                guard let b = b.baseAddress else { return }
                conv.forward(
                    x, g, into: &biased, parameters: p, workspace: &ws, accumulate: accumulate,
                    imageBias: ImageBias(b, stride: outChannels), scale: 0.7, path: path)
                conv.forward(
                    x, g, into: &shared, parameters: p, workspace: &ws, accumulate: accumulate,
                    imageBias: ImageBias(b, stride: 0), scale: 0.7, path: path)
            }
            return y + gradX + p.grads.array + biased + shared
        }
        let imageBias = randomMatrix(g.images, outChannels, &rng).storage
        for accumulate in [false, true] {
            let direct = run(.direct, accumulate: accumulate)
            let reference = run(.im2col, accumulate: accumulate)
            let scale = Double(reference.map { abs($0) }.max() ?? 1)
            // Sums of 9·C_in products for y and dX, of every pixel's for dW, in another order.
            let terms = max(9 * max(inChannels, outChannels), g.pixels)
            let close = Closeness(
                direct, reference, within: .reordered(terms: terms, magnitude: scale))
            #expect(close.holds, "accumulate \(accumulate): \(close)")
        }
    }

    /// 4 channels run the scalar loops, 8 the eight-lane ones, 16 the sixteen-lane ones where the
    /// build has AVX-512 (eight-lane elsewhere), 28 all three in one row.
    @Test(arguments: [(4, 2), (8, 2), (16, 2), (28, 7)])
    func groupNormWithSiLU(channels: Int, groups: Int) {
        var rng = RandomSource(seed: 32)
        var layout = ParameterLayout()
        let norm = GroupNorm("gn", channels: channels, groups: groups, layout: &layout)
        let p = layout.makeStore()
        jitter(p, &rng)
        let g = ImageGeometry(images: 2, height: 2, width: 3)
        let c = channels
        let per = channels / groups
        let n = g.pixels * c
        let x = FloatBuffer(randomMatrix(g.pixels, c, &rng, scale: 2).storage)
        let gy = randomMatrix(g.pixels, c, &rng).storage
        var act = [Float](repeating: 0, count: n)
        var xhat = act
        var rstd = [Float](repeating: 0, count: 2 * groups)
        var scratch = act
        var gradX = act
        let loss = { () -> Double in
            norm.forward(
                x.pointer, g, siluOut: &act, normalized: &xhat, inverseStd: &rstd, parameters: p)
            return projection(act, gy)
        }
        _ = loss()
        norm.backward(
            gradOut: gy, normalized: xhat, inverseStd: rstd, g, gradX: &gradX, parameters: p,
            scratch: &scratch)
        var cmp = GradientComparison()
        compareAll(p, analytic: p.grads.array, &cmp, &rng, loss)
        for i in sampleIndices(x.count, max: 64, rng: &rng) {
            cmp.compare(
                "x[\(i)]", analytic: gradX[i], numeric: centralDifference(x.pointer + i, loss))
        }
        #expect(cmp.worst < 1e-2, "\(cmp.worstName)")
        // x̂ has mean 0 and variance 1 over each (image, group): 6 pixels × `per` channels.
        for image in 0..<2 {
            for group in 0..<groups {
                let values = (0..<6).flatMap { q in
                    (0..<per).map { xhat[(image * 6 + q) * c + group * per + $0] }
                }
                let count = Float(values.count)
                let mean = values.reduce(0, +) / count
                let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / count
                #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-3)
            }
        }
    }

    @Test func poolingAndUpsamplingAreAdjointsOfTheirBackward() {
        var rng = RandomSource(seed: 33)
        let g = ImageGeometry(images: 2, height: 4, width: 6)
        let c = 3
        let fine = randomMatrix(g.pixels, c, &rng).storage
        let coarse = randomMatrix(g.halved.pixels, c, &rng).storage
        var pooled = [Float](repeating: 0, count: coarse.count)
        var up = [Float](repeating: 0, count: fine.count)
        var poolBack = up
        var upBack = pooled
        Resampling.averagePool(fine, g, channels: c, into: &pooled)
        Resampling.averagePoolBackward(coarse, g, channels: c, into: &poolBack, accumulate: false)
        Resampling.upsample(coarse, g, channels: c, into: &up, accumulate: false)
        Resampling.upsampleBackward(fine, g, channels: c, into: &upBack)
        // ⟨Ax, y⟩ = ⟨x, Aᵀy⟩ for both maps.
        let dot = { (a: [Float], b: [Float]) in
            zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        #expect(abs(dot(pooled, coarse) - dot(fine, poolBack)) < 1e-4)
        #expect(abs(dot(up, fine) - dot(coarse, upBack)) < 1e-4)
        // The top-left 2×2 block of image 0, channel 1.
        let block = [0, 1, 6, 7].map { fine[$0 * c + 1] }.reduce(0, +) / 4
        #expect(abs(pooled[1] - block) < 1e-6)
        #expect(up[7 * c + 2] == coarse[2])
    }

    /// Also the one-network form, with D as a second condition (c_aug per row through map_aug).
    /// Width 8 runs every convolution through im2col, width 32 the direct kernels, width 48 the
    /// blocks through im2col and the output convolution (48 inputs) through the direct kernel,
    /// reading framed input.
    @Test(arguments: [(false, 8), (true, 8), (false, 32), (false, 48)])
    func wholeUNetIncludingEmbeddingPathAndInputs(conditionedOnD: Bool, width: Int) {
        // 8×8 images with 2 channels: two resolutions (8, 4), transposes from channels-first
        // exercised.
        let config = UNetConfig(
            side: 8, channels: 2, width: width, depth: 1, embeddingChannels: 8,
            conditionsOnAugmentedDimension: conditionedOnD)
        #expect(config.levels == 2)
        let net = UNet(config: config, seed: 34)
        var rng = RandomSource(seed: 35)
        jitter(net.parameters, &rng, scale: 0.2 * (8 / Double(width)).squareRoot())
        let rows = 3
        let n = config.dim
        let x = FloatBuffer(randomMatrix(rows, n, &rng).storage)
        let c = FloatBuffer((0..<rows).map { _ in Float(rng.normal() * 0.6) })
        let aug = FloatBuffer((0..<rows).map { _ in Float(8 * rng.uniform()) })
        let gy = randomMatrix(rows, n, &rng).storage
        var out = [Float](repeating: 0, count: rows * n)
        let loss = { () -> Double in
            net.forward(
                x.pointer, cNoise: c.pointer, cAug: conditionedOnD ? aug.pointer : nil, rows: rows,
                into: &out,
                keepForBackward: true)
            return projection(out, gy)
        }
        _ = loss()
        var gradX = [Float](repeating: 0, count: rows * n)
        var gradC = [Float](repeating: 0, count: rows)
        net.backward(gradOut: gy, gradX: &gradX, gradCNoise: &gradC)
        let p = net.parameters
        var check = DirectionalGradientCheck()
        check.checkNetwork(
            p, inputs: [("x", x.pointer, gradX), ("c_noise", c.pointer, gradC)], loss)
        // Round-off: the five-point quotient carries ~1.5·δL/h of the loss's float32 error δL
        // (~1e-5 for ~400 outputs through ~30 layers), 3e-4 at h = 0.05, a share ≤ 3e-3 of max(‖a‖,
        // 0.1): 5e-5–2.4e-4 under each kernel variant and OpenBLAS core. Truncation, O(h⁴): 2.2e-3
        // for map_layer1 (‖a‖ = 65) at width 8 with D, the same everywhere. A wrong backward (the
        // pooled skip gradient overwritten instead of added) scores 0.3–0.76.
        #expect(check.worst < 1e-2, "\(check.worstName)")
        #expect(check.checked >= 2 * p.slots.count)
        #expect(
            p.slots.contains {
                $0.name == "dec.0.0.conv1.weight" && $0.shape == [width, width, 3, 3]
            })
        #expect(
            p.slots.contains {
                $0.name == "enc.1.0.affine.weight" && $0.shape == [width, 4 * width]
            })
        #expect(
            p.slots.contains { $0.name == "map_aug.weight" && $0.shape == [8, 8] } == conditionedOnD
        )
    }

    /// Width 32 reads framed activations in place (and shares one embedding across rows when
    /// inferring), width 48 only in the output convolution.
    @Test(arguments: [8, 32, 48])
    func inferencePathMatchesTrainingPath(width: Int) {
        let config = UNetConfig(side: 8, width: width, depth: 2, embeddingChannels: 8)
        let net = UNet(config: config, seed: 36)
        var rng = RandomSource(seed: 37)
        jitter(net.parameters, &rng, scale: 0.1)
        let rows = 4
        let x = randomMatrix(rows, config.dim, &rng)
        let training = net.forward(x, cNoise: [Float](repeating: 0.3, count: rows))
        var inference = [Float](repeating: 0, count: x.count)
        let shared = FloatBuffer(count: rows, repeating: 0.3)
        x.storage.withUnsafeBufferPointer { px in
            inference.withUnsafeMutableBufferPointer { po in
                guard let bx = px.baseAddress, let bo = po.baseAddress else { return }
                net.forward(
                    bx, cNoise: shared.pointer, rows: rows, into: bo, keepForBackward: false)
            }
        }
        // The inference path reads framed activations and one shared embedding: the same sums (up
        // to 9·width terms per convolution, through the blocks) in another order.
        let scale = Double(training.storage.map { abs($0) }.max() ?? 1)
        let close = Closeness(
            training.storage, inference,
            within: .reordered(terms: 9 * width * 2 * config.depth, magnitude: max(scale, 1)))
        #expect(close.holds, "\(close)")
        #expect(training.storage.contains { abs($0) > 1e-3 })
    }
}
