/// Owned Float32 storage with a stable address, for parameters and workspaces
/// that hot loops reach through raw pointers without copy-on-write checks.
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int, repeating value: Float = 0) {
        precondition(count >= 0, "buffer size must be non-negative")
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public func copy() -> FloatBuffer {
        let c = FloatBuffer(count: count)
        c.pointer.update(from: pointer, count: count)
        return c
    }

    public func assign(from other: FloatBuffer) {
        precondition(other.count == count, "buffer sizes differ: \(other.count) vs \(count)")
        pointer.update(from: other.pointer, count: count)
    }

    public func fill(_ value: Float) { buffer.update(repeating: value) }
}

/// A workspace slot that grows to the largest size asked of it and keeps its memory.
///
/// A pointer it returned stays valid until a later call asks for more floats than the slot holds:
/// then the slot moves to a larger buffer, taking its values along, and the old pointer is
/// released. Each role in a workspace has a slot of its own, so no pointer is held across such a
/// call.
public struct Scratch {
    public private(set) var storage = FloatBuffer(count: 0)

    public init() {}

    /// A pointer to at least `count` floats; reallocates only when the slot is too small, and
    /// then copies what it held.
    public mutating func pointer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if storage.count < count {
            let larger = FloatBuffer(count: count)
            larger.pointer.update(from: storage.pointer, count: storage.count)
            storage = larger
        }
        return storage.pointer
    }
}
