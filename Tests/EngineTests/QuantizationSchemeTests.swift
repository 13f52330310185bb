import Engine
import Foundation
import Testing

/// The two quantization schemes: which tensors each touches, and the official rule's grid and
/// error per weight.
@Suite struct QuantizationSchemeTests {
    /// The weight tensors a scheme changed at 4 bits.
    func changed(_ network: any DenoiserNetwork, _ scheme: QuantizationScheme) -> Set<String> {
        let p = network.parameters
        let q = Quantization.quantized(p, bits: 4, scheme: scheme)
        return Set(
            p.slots.filter { slot in
                !UnsafeBufferPointer(start: p.value(slot), count: slot.count).elementsEqual(
                    UnsafeBufferPointer(start: q.value(slot), count: slot.count))
            }.map(\.name))
    }

    /// The U-Net: `all` changes every weight tensor; `official` only the convolutions of the levels
    /// below the top, never a norm, an `affine`, a `map` (D's included), the top level or the
    /// first and last convolutions.
    @Test func theUNetsTensorsEachSchemeTouches() {
        let unet = UNet(
            config: UNetConfig(
                side: 8, width: 8, depth: 1, embeddingChannels: 16,
                conditionsOnAugmentedDimension: true),
            seed: 3)
        let weights = Set(unet.parameters.slots.filter { $0.role == .weight }.map(\.name))
        #expect(changed(unet, .all) == weights)
        let official = changed(unet, .official)
        let expected = weights.filter {
            ($0.hasPrefix("enc.") || $0.hasPrefix("dec.")) && !$0.hasPrefix("enc.0.")
                && !$0.hasPrefix("dec.0.") && $0.contains(".conv")
        }
        #expect(!expected.isEmpty && official == expected, "\(official.sorted())")
        #expect(weights.contains("map_aug.weight") && weights.contains("input.weight"))
    }

    /// The MLP has no resolution levels: its input and output layers, which act on the data's own
    /// coordinates, stay in full precision with the norms and maps; the blocks' layers are
    /// quantized.
    @Test func theMLPsTensorsEachSchemeTouches() {
        let mlp = MLPEDM(config: MLPEDMConfig(dim: 3, width: 16, depth: 2), seed: 4)
        let weights = Set(mlp.parameters.slots.filter { $0.role == .weight }.map(\.name))
        #expect(changed(mlp, .all) == weights)
        #expect(changed(mlp, .official) == ["blocks.0.linear.weight", "blocks.1.linear.weight"])
    }

    /// The official rule: values on the grid scale·(k − zero), k = 0…2^bits − 1, with zero the
    /// truncated −lo/scale; the error within scale/2, and within one scale for weights less than a
    /// step above the minimum (the clamp at 0); and where −lo/scale has a fraction above one half,
    /// a grid other than `all`'s.
    @Test(arguments: [3, 5, 6, 8, 9])
    func theOfficialGridAndItsErrorPerWeight(bits: Int) {
        var rng = RandomSource(seed: UInt64(bits))
        let w = (0..<300).map { _ in Float(rng.normal()) * 0.3 + 0.05 }
        var q = w
        let scale = q.withUnsafeMutableBufferPointer {
            Quantization.quantizeOfficially($0, bits: bits)
        }
        let lo = Double(w.min() ?? 0)
        let qMax = pow(2, Double(bits)) - 1
        #expect(abs(scale - (Double(w.max() ?? 0) - lo) / qMax) < 1e-12)
        let zero = (-lo / scale).rounded(.down)
        for (a, b) in zip(w, q) {
            let k = Double(b) / scale + zero
            #expect(abs(k - k.rounded()) < 1e-3 && k.rounded() >= 0 && k.rounded() <= qMax)
            let bound = Double(a) < lo + scale ? scale : scale / 2
            #expect(abs(Double(a) - Double(b)) <= bound * (1 + 1e-5), "\(a) → \(b)")
        }
        #expect(Set(q).count <= 1 << bits)
        var constant: [Float] = [0.7, 0.7]
        #expect(
            constant.withUnsafeMutableBufferPointer { Quantization.quantizeOfficially($0, bits: 4) }
                == 0)
        #expect(constant == [0.7, 0.7])
    }

    /// A tensor whose −lo/scale is 2.75 at 2 bits: the official zero point is 2, `all`'s is 3, so
    /// the grids differ by a quarter step.
    @Test func theTruncatedZeroPointMovesTheGrid() {
        let w: [Float] = [-2.75, 0.25]
        var official = w
        var all = w
        official.withUnsafeMutableBufferPointer { _ = Quantization.quantizeOfficially($0, bits: 2) }
        all.withUnsafeMutableBufferPointer { _ = Quantization.quantize($0, bits: 2) }
        // scale = 3/3 = 1 for both; official zero ⌊2.75⌋ = 2 → grid {−2, −1, 0, 1}; all's lo =
        // −2.75, hi = 0.25, zero round(2.75) = 3 → grid {−3, −2, −1, 0}.
        #expect(official == [-2, 0] && all == [-3, 0], "\(official) \(all)")
    }
}
