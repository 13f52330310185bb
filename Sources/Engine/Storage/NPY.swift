/// NumPy `.npy` arrays: magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), a header length
/// (2 bytes in 1.0, 4 bytes after), a Python-literal header dict with descr, fortran_order and
/// shape, then the data. Reads little-endian float32/float64 in C order; writes float32, v1.0.
public enum NPY {
    public struct Array: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]

        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }

        /// The array as a K×N matrix: 2-D as it is, 1-D as one column, higher ranks flattened after
        /// the first axis.
        public func matrix() -> Matrix {
            let rows = shape.first ?? 1
            let cols = rows == 0 ? shape.dropFirst().reduce(1, *) : values.count / max(rows, 1)
            return Matrix(rows: rows, cols: cols, storage: values)
        }
    }

    static let magic: [UInt8] = [0x93] + Swift.Array("NUMPY".utf8)
    static let maximumHeaderBytes = 1 << 20

    /// Reads the header first and checks the shape against the file's size and `Limits.values`
    /// before the data is read.
    public static func read(_ path: String) throws(StorageError) -> Array {
        let file = try InputFile(path)
        let prefix = try file.read(from: 0, count: 12)
        let headerEnd = try headerEnd(prefix, fileSize: file.size, path: path)
        let head = try file.read(from: 0, count: headerEnd)
        let (header, width) = try layout(head, dataBytes: file.size - headerEnd, path: path)
        let data = try file.read(from: headerEnd, count: file.size - headerEnd)
        return Array(
            shape: header.shape,
            values: Bytes.floats(data, offset: 0, count: data.count / width, width: width))
    }

    /// Reads a 2-D array (K×N) as a matrix, refusing other ranks.
    public static func readMatrix(_ path: String) throws(StorageError) -> Matrix {
        let array = try read(path)
        guard array.shape.count == 2 else {
            throw StorageError(path, "expected a 2-D array (K, N), found shape \(array.shape)")
        }
        return array.matrix()
    }

    public static func write(_ array: Array, to path: String) throws(StorageError) {
        try AtomicFile.write(try encode(array, path: path), to: path)
    }

    public static func write(_ matrix: Matrix, to path: String) throws(StorageError) {
        try write(Array(shape: [matrix.rows, matrix.cols], values: matrix.storage), to: path)
    }

    public static func encode(_ array: Array, path: String = "npy") throws(StorageError) -> [UInt8]
    {
        guard array.shape.reduce(1, *) == array.values.count else {
            throw StorageError(
                path, "\(array.values.count) values do not fill shape \(array.shape)")
        }
        var out = header(shape: array.shape)
        Bytes.appendFloats(array.values, to: &out)
        return out
    }

    /// The bytes before the data of a float32 array of `shape` (version 1.0, padded to 64 bytes),
    /// for writers that stream the data after it.
    public static func header(shape: [Int]) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ")
        let tuple = shape.count == 1 ? "(\(dims),)" : "(\(dims))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(tuple), }"
        let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = magic + [1, 0]
        Bytes.append(UInt64(header.utf8.count), to: &out, bytes: 2)
        out += header.utf8
        return out
    }

    /// Appends `values` (little-endian float32) to an open file.
    public static func appendValues(
        _ values: [Float], to fd: Int32, path: String
    ) throws(StorageError) {
        var bytes: [UInt8] = []
        Bytes.appendFloats(values, to: &bytes)
        try AtomicFile.write(bytes, to: fd, path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> Array {
        let headerEnd = try headerEnd(bytes, fileSize: bytes.count, path: path)
        let (header, width) = try layout(
            Swift.Array(bytes[0..<headerEnd]), dataBytes: bytes.count - headerEnd, path: path)
        let count = (bytes.count - headerEnd) / width
        return Array(
            shape: header.shape,
            values: Bytes.floats(bytes, offset: headerEnd, count: count, width: width))
    }

    /// Where the data starts, from the magic, version and header length at the start of the file.
    static func headerEnd(
        _ prefix: [UInt8], fileSize: Int, path: String
    ) throws(StorageError) -> Int {
        guard prefix.count >= 10, Swift.Array(prefix[0..<6]) == magic else {
            throw StorageError(path, "not a .npy file (bad magic)")
        }
        let major = prefix[6]
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw StorageError(path, "unsupported .npy version \(major).\(prefix[7])")
        }
        guard prefix.count >= 8 + lengthBytes else { throw StorageError(path, "truncated header") }
        let headerLength = Int(Bytes.uint64(prefix[8..<(8 + lengthBytes)]))
        let dataStart = 8 + lengthBytes + headerLength
        guard headerLength <= maximumHeaderBytes, dataStart <= fileSize else {
            throw StorageError(
                path,
                "header length \(headerLength) runs past the end of the file (\(fileSize) bytes)")
        }
        return dataStart
    }

    /// The header of `head` (the bytes up to the data), checked against the data's size and
    /// `Limits.values`, and the width of one element.
    static func layout(
        _ head: [UInt8], dataBytes: Int, path: String
    ) throws(StorageError) -> (Header, Int) {
        let lengthBytes = head[6] == 1 ? 2 : 4
        guard let text = String(bytes: head[(8 + lengthBytes)...], encoding: .utf8) else {
            throw StorageError(path, "header is not text")
        }
        let header = try parseHeader(text, path: path)
        let width = try elementWidth(header.descr, path: path)
        var count = 1
        for d in header.shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow, p <= Limits.values else {
                throw StorageError(
                    path, "shape \(header.shape) holds more than \(Limits.values) values")
            }
            count = p
        }
        guard dataBytes == count * width else {
            throw StorageError(
                path,
                """
                shape \(header.shape) of \(header.descr) needs \(count * width) data bytes, the \
                file has \(dataBytes)
                """
            )
        }
        if header.fortranOrder && header.shape.filter({ $0 > 1 }).count > 1 {
            throw StorageError(path, "Fortran-order arrays are not supported; save with C order")
        }
        return (header, width)
    }

    private static func elementWidth(_ descr: String, path: String) throws(StorageError) -> Int {
        switch descr {
        case "<f4": return 4
        case "<f8": return 8
        case ">f4", ">f8":
            throw StorageError(
                path, "big-endian data (\(descr)) is not supported; save little-endian")
        default:
            throw StorageError(path, "dtype '\(descr)' is not supported; use float32 or float64")
        }
    }

    struct Header {
        var descr: String
        var fortranOrder: Bool
        var shape: [Int]
    }

    /// Parses the header dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3,
    /// 2), }.
    static func parseHeader(_ text: String, path: String) throws(StorageError) -> Header {
        var scanner = LiteralScanner(Swift.Array(text.unicodeScalars))
        var descr: String?
        var fortran: Bool?
        var shape: [Int]?
        guard scanner.take("{") else { throw StorageError(path, "header is not a dict") }
        while !scanner.take("}") {
            guard let key = scanner.string(), scanner.take(":") else {
                throw StorageError(path, "malformed header")
            }
            switch key {
            case "descr": descr = scanner.string()
            case "fortran_order": fortran = scanner.boolean()
            case "shape": shape = scanner.tuple()
            default: throw StorageError(path, "unexpected header key '\(key)'")
            }
            _ = scanner.take(",")
            guard !scanner.atEnd() else { throw StorageError(path, "malformed header") }
        }
        guard let descr else { throw StorageError(path, "header has no descr") }
        guard let fortran else { throw StorageError(path, "header has no fortran_order") }
        guard let shape else { throw StorageError(path, "header has no valid shape") }
        return Header(descr: descr, fortranOrder: fortran, shape: shape)
    }
}

/// A tiny scanner for the Python literals in a .npy header.
struct LiteralScanner {
    private let chars: [Unicode.Scalar]
    private var i = 0

    init(_ chars: [Unicode.Scalar]) { self.chars = chars }

    mutating func atEnd() -> Bool {
        skip()
        return i >= chars.count
    }

    private mutating func skip() {
        while i < chars.count, chars[i] == " " || chars[i] == "\n" || chars[i] == "\t" { i += 1 }
    }

    mutating func take(_ c: Unicode.Scalar) -> Bool {
        skip()
        guard i < chars.count, chars[i] == c else { return false }
        i += 1
        return true
    }

    mutating func string() -> String? {
        skip()
        guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { return nil }
        let quote = chars[i]
        i += 1
        var s = ""
        while i < chars.count, chars[i] != quote {
            s.unicodeScalars.append(chars[i])
            i += 1
        }
        guard i < chars.count else { return nil }
        i += 1
        return s
    }

    mutating func boolean() -> Bool? {
        skip()
        for (word, value) in [("True", true), ("False", false)] {
            let w = Swift.Array(word.unicodeScalars)
            if i + w.count <= chars.count, Swift.Array(chars[i..<(i + w.count)]) == w {
                i += w.count
                return value
            }
        }
        return nil
    }

    mutating func integer() -> Int? {
        skip()
        var digits = ""
        while i < chars.count, chars[i].properties.numericType == .decimal, digits.count < 18 {
            digits.unicodeScalars.append(chars[i])
            i += 1
        }
        if i < chars.count, chars[i] == "L" { i += 1 }
        return Int(digits)
    }

    mutating func tuple() -> [Int]? {
        guard take("(") else { return nil }
        var values: [Int] = []
        while !take(")") {
            guard let v = integer() else { return nil }
            values.append(v)
            guard take(",") || (peek(")")) else { return nil }
        }
        return values
    }

    private mutating func peek(_ c: Unicode.Scalar) -> Bool {
        skip()
        return i < chars.count && chars[i] == c
    }
}
