import CZlib
import Foundation

/// IDX arrays, the MNIST family's format, plain or inside gzip: two zero bytes, a type code, the
/// rank, one big-endian UInt32 per dimension, then the values, big-endian, in C order.
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

    static let elementSizes: [UInt8: Int] = [0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8]

    /// Reads the header first (through gzip when the file is compressed) and refuses a shape of
    /// more than `Limits.values` values before inflating the data, so a small bomb cannot fill
    /// memory.
    public static func read(_ path: String) throws(StorageError) -> Array {
        let input = try InputFile(path)
        guard let file = gzdopen(dup(input.fd), "rb") else {
            throw StorageError(path, "cannot be opened")
        }
        defer { gzclose(file) }
        let start = try inflate(file, count: 4, path: path)
        let rank = try prefix(start, path: path)
        let header = start + (try inflate(file, count: 4 * rank, path: path))
        let (shape, count) = try shape(header, path: path)
        let body = try inflate(file, count: count * (elementSizes[header[2]] ?? 1), path: path)
        guard (try inflate(file, count: 1, path: path, exact: false)).isEmpty else {
            throw StorageError(path, "unexpected bytes after the data of shape \(shape)")
        }
        return Array(
            shape: shape,
            values: values(header + body, from: header.count, count: count, type: header[2]),
            isUnsignedBytes: header[2] == 0x08)
    }

    /// The next `count` inflated bytes (zlib passes files that are not gzip through unchanged);
    /// with `exact`, fewer is a truncated file.
    static func inflate(
        _ file: gzFile, count: Int, path: String, exact: Bool = true
    ) throws(StorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                gzread(file, raw.baseAddress.map { $0 + done }, UInt32(min(count - done, 1 << 30)))
            }
            if n < 0 { throw StorageError(path, "corrupt gzip data (\(zlibMessage(file)))") }
            if n == 0 { break }
            done += Int(n)
        }
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code != Z_OK && code != Z_STREAM_END {
            throw StorageError(path, "truncated or corrupt gzip data (\(zlibMessage(file)))")
        }
        if exact && done < count {
            throw StorageError(path, "truncated: \(count - done) bytes missing")
        }
        return Swift.Array(bytes.prefix(done))
    }

    private static func zlibMessage(_ file: gzFile) -> String {
        var code: Int32 = 0
        guard let message = gzerror(file, &code) else { return "zlib error \(code)" }
        return String(cString: message)
    }

    /// The rank, from the first four bytes (two zeros, the type code, the rank).
    static func prefix(_ bytes: [UInt8], path: String) throws(StorageError) -> Int {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw StorageError(path, "not an IDX file (it must start with two zero bytes)")
        }
        guard elementSizes[bytes[2]] != nil else {
            throw StorageError(path, "unknown IDX type code 0x\(String(bytes[2], radix: 16))")
        }
        let rank = Int(bytes[3])
        guard (1...8).contains(rank) else {
            throw StorageError(path, "IDX rank \(rank) is not between 1 and 8")
        }
        return rank
    }

    /// The shape in the header and its number of values (at most `Limits.values`).
    static func shape(_ header: [UInt8], path: String) throws(StorageError) -> ([Int], Int) {
        var shape: [Int] = []
        var count = 1
        for axis in 0..<Int(header[3]) {
            let d = header[(4 + 4 * axis)..<(8 + 4 * axis)].reduce(0) { $0 << 8 | Int($1) }
            guard d > 0 else { throw StorageError(path, "IDX dimension \(axis) is 0") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Limits.values else {
                throw StorageError(
                    path, "IDX shape \(shape + [d]) holds more than \(Limits.values) values")
            }
            shape.append(d)
            count = product
        }
        return (shape, count)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> Array {
        let rank = try prefix(bytes, path: path)
        let headerEnd = 4 + 4 * rank
        guard bytes.count >= headerEnd else { throw StorageError(path, "truncated IDX header") }
        let (shape, count) = try shape(Swift.Array(bytes[0..<headerEnd]), path: path)
        let expected = headerEnd + count * (elementSizes[bytes[2]] ?? 1)
        guard bytes.count >= expected else {
            throw StorageError(
                path,
                """
                truncated: shape \(shape) needs \(expected - headerEnd) bytes of data, found \
                \(bytes.count - headerEnd)
                """
            )
        }
        guard bytes.count == expected else {
            throw StorageError(path, "\(bytes.count - expected) unexpected bytes after the data")
        }
        return Array(
            shape: shape, values: values(bytes, from: headerEnd, count: count, type: bytes[2]),
            isUnsignedBytes: bytes[2] == 0x08)
    }

    private static func values(
        _ bytes: [UInt8], from start: Int, count: Int, type: UInt8
    ) -> [Float] {
        bytes.withUnsafeBufferPointer { b in
            let p = UnsafeRawBufferPointer(b)
            func bigEndian<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
                T(
                    bigEndian: p.loadUnaligned(
                        fromByteOffset: start + i * MemoryLayout<T>.size, as: T.self))
            }
            switch type {
            case 0x08: return (0..<count).map { Float(b[start + $0]) }
            case 0x09: return (0..<count).map { Float(Int8(bitPattern: b[start + $0])) }
            case 0x0B: return (0..<count).map { Float(bigEndian($0, Int16.self)) }
            case 0x0C: return (0..<count).map { Float(bigEndian($0, Int32.self)) }
            case 0x0D: return (0..<count).map { Float(bitPattern: bigEndian($0, UInt32.self)) }
            default:
                return (0..<count).map { Float(Double(bitPattern: bigEndian($0, UInt64.self))) }
            }
        }
    }
}
