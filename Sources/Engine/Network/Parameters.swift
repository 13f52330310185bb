import KernelInterface

/// What a parameter tensor is for; quantization touches only `.weight`.
public enum ParameterRole: String, Sendable {
    case weight, bias, normScale, normShift
}

/// Where one named tensor lives inside a `ParameterStore`.
public struct ParameterSlot: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public let role: ParameterRole
    public var count: Int { shape.reduce(1, *) }
}

/// A named tensor, detached from any store: what files hold and what crosses threads.
public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// All parameters of a network in one contiguous buffer, with a same-sized gradient buffer,
/// so optimizers and averages are single passes.
public final class ParameterStore {
    public let slots: [ParameterSlot]
    public let values: FloatBuffer
    public let grads: FloatBuffer

    public init(slots: [ParameterSlot], values: FloatBuffer) {
        let total = slots.last.map { $0.offset + $0.count } ?? 0
        precondition(
            values.count == total, "parameter buffer holds \(values.count), slots need \(total)")
        self.slots = slots
        self.values = values
        self.grads = FloatBuffer(count: total)
    }

    public var count: Int { values.count }

    public func slot(named name: String) -> ParameterSlot? { slots.first { $0.name == name } }

    @inline(__always)
    public func value(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float> {
        values.pointer + slot.offset
    }

    @inline(__always)
    public func grad(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float> {
        grads.pointer + slot.offset
    }

    /// A normalisation's scale γ and shift β, with their gradients, as the kernels take them.
    public func affine(scale: ParameterSlot, shift: ParameterSlot) -> NormAffine {
        NormAffine(
            gamma: value(scale), beta: value(shift), gradGamma: grad(scale), gradBeta: grad(shift))
    }

    public func zeroGrads() { grads.fill(0) }

    /// A store with the same layout and a copy of the values (gradients zero).
    public func copy() -> ParameterStore { ParameterStore(slots: slots, values: values.copy()) }

    public func tensors() -> [NamedTensor] {
        slots.map {
            NamedTensor(
                name: $0.name, shape: $0.shape,
                values: Array(UnsafeBufferPointer(start: value($0), count: $0.count)))
        }
    }

    /// Replaces every value from `tensors`, which must name each slot once with its exact shape.
    public func load(_ tensors: [NamedTensor]) throws(ParameterError) {
        var byName: [String: NamedTensor] = [:]
        for t in tensors { byName[t.name] = t }
        for slot in slots {
            guard let t = byName[slot.name] else { throw .missing(slot.name) }
            guard t.shape == slot.shape else {
                throw .shapeMismatch(slot.name, expected: slot.shape, found: t.shape)
            }
            t.values.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { value(slot).update(from: base, count: slot.count) }
            }
        }
        let known = Set(slots.map(\.name))
        if let extra = tensors.first(where: { !known.contains($0.name) }) {
            throw .unexpected(extra.name)
        }
    }

    /// True when no value is NaN or infinite.
    public var isFinite: Bool { values.buffer.allSatisfy { $0.isFinite } }
}

public enum ParameterError: Error, Equatable, CustomStringConvertible {
    case missing(String)
    case unexpected(String)
    case shapeMismatch(String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missing(let n): "tensor '\(n)' is missing"
        case .unexpected(let n): "tensor '\(n)' is not part of this model"
        case .shapeMismatch(let n, let e, let f):
            "tensor '\(n)' has shape \(f), the model needs \(e)"
        }
    }
}

/// Lays out slots one after another while layers declare their parameters.
public struct ParameterLayout {
    public private(set) var slots: [ParameterSlot] = []
    public private(set) var initialValues: [Float] = []

    public init() {}

    public mutating func add(_ name: String, shape: [Int], role: ParameterRole, initial: [Float])
        -> ParameterSlot
    {
        let slot = ParameterSlot(name: name, shape: shape, offset: initialValues.count, role: role)
        precondition(initial.count == slot.count, "initial values for \(name) have the wrong size")
        precondition(!slots.contains { $0.name == name }, "duplicate parameter name \(name)")
        slots.append(slot)
        initialValues += initial
        return slot
    }

    public func makeStore() -> ParameterStore {
        ParameterStore(slots: slots, values: FloatBuffer(initialValues))
    }
}
