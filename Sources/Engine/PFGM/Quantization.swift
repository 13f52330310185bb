import Foundation

/// Which weight tensors are quantized, and how.
public enum QuantizationScheme: String, Sendable, Codable, CaseIterable {
    /// Every weight tensor (Linear and convolution weights, the embedding maps and the outermost
    /// layers included) by `Quantization.quantize`.
    case all
    /// The official PFGM++ evaluation's (generate_quant.py), by `Quantization.quantizeOfficially`:
    /// weights whose name holds `norm`, `affine` (the blocks' embedding projections) or `map` (the
    /// embedding maps, D's included) stay in full precision, and so do the layers at the data's own
    /// resolution: the U-Net's top level (encoder and decoder) with its first and last
    /// convolutions, and the MLP's input and output layers, which act on the data's coordinates.
    case official

    /// Whether the scheme quantizes this tensor.
    public func quantizes(_ slot: ParameterSlot) -> Bool {
        guard slot.role == .weight else { return false }
        guard self == .official else { return true }
        let name = slot.name
        if ["norm", "affine", "map"].contains(where: { name.contains($0) }) { return false }
        let outer = ["input.", "output.", "enc.0.", "dec.0."]
        return !outer.contains { name.hasPrefix($0) }
    }
}

/// Post-training uniform asymmetric quantization of weight tensors (not norms or biases). Per
/// tensor: lo = min(min, 0), hi = max(max, 0), scale = (hi − lo)/(2^bits − 1), zero =
/// clamp(round(−lo/scale), 0, q_max), q = clamp(round(w/scale + zero), 0, q_max), w ← scale·(q −
/// zero). The error per weight is at most scale/2; a constant-zero tensor stays as it is.
public enum Quantization {
    /// A quantized copy of `parameters`; the original is never changed. bits ≥ 32 returns an exact
    /// copy.
    public static func quantized(
        _ parameters: ParameterStore, bits: Int, scheme: QuantizationScheme = .all
    ) -> ParameterStore {
        precondition(bits >= 1, "quantization needs at least 1 bit")
        let copy = parameters.copy()
        guard bits < 32 else { return copy }
        for slot in copy.slots where scheme.quantizes(slot) {
            let w = UnsafeMutableBufferPointer(start: copy.value(slot), count: slot.count)
            switch scheme {
            case .all: quantize(w, bits: bits)
            case .official: quantizeOfficially(w, bits: bits)
            }
        }
        return copy
    }

    /// The official evaluation's rule, in place: over the tensor's own lo = min, hi = max, scale =
    /// (hi − lo)/q_max, zero = ⌊clamp(−lo/scale, 0, q_max)⌋ (truncated, not rounded), q =
    /// round_half_even(clamp(zero + w/scale, 0, q_max)), w ← scale·(q − zero). The truncated zero
    /// shifts the grid by a whole step, so the error stays within scale/2 except for weights within
    /// one step of lo, which the clamp at 0 can move by up to one scale. Returns the scale (0 for a
    /// constant tensor, which stays as it is).
    @discardableResult
    public static func quantizeOfficially(_ w: UnsafeMutableBufferPointer<Float>, bits: Int)
        -> Double
    {
        guard let lo = w.min().map(Double.init), let hi = w.max().map(Double.init), hi > lo else {
            return 0
        }
        let qMax = pow(2, Double(bits)) - 1
        let scale = (hi - lo) / qMax
        let zero = min(max(-lo / scale, 0), qMax).rounded(.towardZero)
        for i in w.indices {
            let q = min(max(zero + Double(w[i]) / scale, 0), qMax).rounded(.toNearestOrEven)
            w[i] = Float(scale * (q - zero))
        }
        return scale
    }

    /// Quantizes one tensor in place; returns its scale (0 for a constant-zero tensor).
    @discardableResult
    public static func quantize(_ w: UnsafeMutableBufferPointer<Float>, bits: Int) -> Double {
        guard let lo0 = w.min(), let hi0 = w.max() else { return 0 }
        let lo = Double(min(lo0, 0))
        let hi = Double(max(hi0, 0))
        guard hi > lo else { return 0 }
        let qMax = pow(2, Double(bits)) - 1
        let scale = (hi - lo) / qMax
        let zero = min(max((-lo / scale).rounded(), 0), qMax)
        for i in w.indices {
            let q = min(max((Double(w[i]) / scale + zero).rounded(), 0), qMax)
            w[i] = Float(scale * (q - zero))
        }
        return scale
    }
}
