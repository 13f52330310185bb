import CZlib
import Foundation

/// IDX arrays, the MNIST family's format, plain or inside gzip: two zero bytes, a type code, the rank,
/// one big-endian UInt32 per dimension, then the values, big-endian, in C order.
public enum IDX {
    public struct Array: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
        /// True for unsigned bytes (type 0x08): pixels, which callers scale to [−1, 1].
        public var isUnsignedBytes: Bool

        /// K×(product of the other axes): images flattened row by row.
        public func matrix() -> Matrix {
            let rows = shape.first ?? 0
            return Matrix(rows: rows, cols: shape.dropFirst().reduce(1, *), storage: values)
        }
    }

    static let maximumBytes = 1 << 31
    static let elementSizes: [UInt8: Int] = [0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8]

    public static func read(_ path: String) throws(StorageError) -> Array {
        try decode(try inflate(path), path: path)
    }

    /// The file's bytes, inflated by zlib when they are gzip (zlib passes other files through unchanged).
    static func inflate(_ path: String) throws(StorageError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw StorageError(path, "no such file") }
        guard let file = gzopen(path, "rb") else { throw StorageError(path, "cannot be opened") }
        defer { gzclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw StorageError(path, "corrupt gzip data (\(zlibMessage(file)))") }
            if n == 0 { break }
            bytes += chunk.prefix(Int(n))
            if bytes.count > maximumBytes { throw StorageError(path, "inflates to more than \(maximumBytes >> 30) GiB") }
        }
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code != Z_OK && code != Z_STREAM_END { throw StorageError(path, "truncated or corrupt gzip data (\(zlibMessage(file)))") }
        return bytes
    }

    private static func zlibMessage(_ file: gzFile) -> String {
        var code: Int32 = 0
        guard let message = gzerror(file, &code) else { return "zlib error \(code)" }
        return String(cString: message)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> Array {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw StorageError(path, "not an IDX file (it must start with two zero bytes)") }
        guard let size = elementSizes[bytes[2]] else {
            throw StorageError(path, "unknown IDX type code 0x\(String(bytes[2], radix: 16))")
        }
        let rank = Int(bytes[3])
        guard (1...8).contains(rank) else { throw StorageError(path, "IDX rank \(rank) is not between 1 and 8") }
        let header = 4 + 4 * rank
        guard bytes.count >= header else { throw StorageError(path, "truncated IDX header") }
        var shape: [Int] = [], count = 1
        for axis in 0..<rank {
            let d = bytes[(4 + 4 * axis)..<(8 + 4 * axis)].reduce(0) { $0 << 8 | Int($1) }
            guard d > 0 else { throw StorageError(path, "IDX dimension \(axis) is 0") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maximumBytes / size else { throw StorageError(path, "IDX shape \(shape + [d]) is too large") }
            shape.append(d)
            count = product
        }
        let expected = header + count * size
        guard bytes.count >= expected else {
            throw StorageError(path, "truncated: shape \(shape) needs \(count * size) bytes of data, found \(bytes.count - header)")
        }
        guard bytes.count == expected else { throw StorageError(path, "\(bytes.count - expected) unexpected bytes after the data") }
        return Array(shape: shape, values: values(bytes, from: header, count: count, type: bytes[2]), isUnsignedBytes: bytes[2] == 0x08)
    }

    private static func values(_ bytes: [UInt8], from start: Int, count: Int, type: UInt8) -> [Float] {
        bytes.withUnsafeBufferPointer { b in
            let p = UnsafeRawBufferPointer(b)
            func bigEndian<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
                T(bigEndian: p.loadUnaligned(fromByteOffset: start + i * MemoryLayout<T>.size, as: T.self))
            }
            switch type {
            case 0x08: return (0..<count).map { Float(b[start + $0]) }
            case 0x09: return (0..<count).map { Float(Int8(bitPattern: b[start + $0])) }
            case 0x0B: return (0..<count).map { Float(bigEndian($0, Int16.self)) }
            case 0x0C: return (0..<count).map { Float(bigEndian($0, Int32.self)) }
            case 0x0D: return (0..<count).map { Float(bitPattern: bigEndian($0, UInt32.self)) }
            default: return (0..<count).map { Float(Double(bitPattern: bigEndian($0, UInt64.self))) }
            }
        }
    }
}
