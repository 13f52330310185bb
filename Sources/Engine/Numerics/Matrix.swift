/// A dense Float32 matrix in row-major order over one contiguous buffer.
///
/// A batch of B vectors of length N is a B×N matrix: one example per row.
public struct Matrix: Sendable, Equatable {
    public private(set) var rows: Int
    public private(set) var cols: Int
    public var storage: [Float]

    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.cols = cols
        self.storage = [Float](repeating: value, count: rows * cols)
    }

    public init(rows: Int, cols: Int, storage: [Float]) {
        precondition(
            storage.count == rows * cols,
            "storage holds \(storage.count) values, shape needs \(rows * cols)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    public var count: Int { storage.count }
    public var shape: [Int] { [rows, cols] }

    public subscript(row: Int, col: Int) -> Float {
        get { storage[row * cols + col] }
        set { storage[row * cols + col] = newValue }
    }

    /// Gives the matrix the shape rows×cols, reallocating only when the element count changes.
    /// Contents are unspecified afterwards unless the count was unchanged.
    public mutating func reshape(rows: Int, cols: Int) {
        if rows * cols != storage.count {
            storage = [Float](repeating: 0, count: rows * cols)
        }
        self.rows = rows
        self.cols = cols
    }

    public mutating func fill(_ value: Float) {
        storage.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }

    /// Row `i` as a new array.
    public func row(_ i: Int) -> [Float] {
        Array(storage[(i * cols)..<((i + 1) * cols)])
    }

    /// The rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(
            rows: range.count, cols: cols,
            storage: Array(storage[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    public func transposed() -> Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for i in 0..<rows {
            for j in 0..<cols { t.storage[j * rows + i] = storage[i * cols + j] }
        }
        return t
    }
}

extension Matrix {
    /// Where the first non-finite value is, as "row R, column C is nan", or nil when all are
    /// finite.
    public var firstNonFinite: String? {
        guard let i = storage.firstIndex(where: { !$0.isFinite }) else { return nil }
        return "row \(i / max(cols, 1)), column \(i % max(cols, 1)) is \(storage[i])"
    }
}
