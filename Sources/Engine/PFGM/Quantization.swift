import Foundation

/// Post-training uniform asymmetric quantization of weight tensors (not norms or biases). Per
/// tensor: lo = min(min, 0), hi = max(max, 0), scale = (hi − lo)/(2^bits − 1), zero =
/// clamp(round(−lo/scale), 0, q_max), q = clamp(round(w/scale + zero), 0, q_max), w ← scale·(q −
/// zero). The error per weight is at most scale/2; a constant-zero tensor stays as it is.
public enum Quantization {
    /// A quantized copy of `parameters`; the original is never changed. bits ≥ 32 returns an exact
    /// copy.
    public static func quantized(_ parameters: ParameterStore, bits: Int) -> ParameterStore {
        precondition(bits >= 1, "quantization needs at least 1 bit")
        let copy = parameters.copy()
        guard bits < 32 else { return copy }
        for slot in copy.slots where slot.role == .weight {
            quantize(
                UnsafeMutableBufferPointer(start: copy.value(slot), count: slot.count), bits: bits)
        }
        return copy
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
