import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each
/// tensor name to {dtype, shape, data_offsets: [begin, end]} (relative to the data section)
/// plus an optional "__metadata__" map of strings, then the raw little-endian data.
public enum SafeTensors {
    /// Element widths of the dtypes that can be read (F32, F64); others are named in the error.
    static let readableWidths = ["F32": 4, "F64": 8]
    static let knownDtypes: Set<String> = [
        "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2",
        "U16", "U32", "U64",
    ]
    /// Headers larger than this are refused before any parsing.
    static let maximumHeaderBytes = 100_000_000

    public struct File: Sendable, Equatable {
        public var tensors: [NamedTensor]
        public var metadata: [String: String]

        public init(tensors: [NamedTensor], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }

        public func tensor(named name: String) -> NamedTensor? { tensors.first { $0.name == name } }
    }

    /// Checks the header length against the file's size first, so a file that is not safetensors is
    /// refused before its bulk is read.
    public static func read(_ path: String) throws(StorageError) -> File {
        let file = try InputFile(path)
        _ = try headerLength(file)
        return try decode(try file.readAll(), path: path)
    }

    /// The header length in the first 8 bytes, checked against the file's size and the bound.
    private static func headerLength(_ file: InputFile) throws(StorageError) -> Int {
        let prefix = try file.read(from: 0, count: 8)
        guard prefix.count == 8 else {
            throw StorageError(
                file.path, "truncated: safetensors starts with an 8-byte header length")
        }
        let length = Bytes.uint64(prefix[0..<8])
        guard length <= UInt64(min(maximumHeaderBytes, file.size - 8)) else {
            throw StorageError(
                file.path,
                "header length \(length) runs past the end of the file (\(file.size) bytes)")
        }
        return Int(length)
    }

    /// A file's tensor shapes and metadata, read from its header alone (the data is not read).
    public struct Header: Sendable {
        public var shapes: [String: [Int]]
        public var metadata: [String: String]

        /// Values of all tensors together.
        public var valueCount: Int { shapes.values.reduce(0) { $0 + $1.reduce(1, *) } }
    }

    public static func header(_ path: String) throws(StorageError) -> Header {
        let file = try InputFile(path)
        let length = try headerLength(file)
        let bytes = try file.read(from: 8, count: length)
        let (entries, metadata) = try parseHeader(Data(bytes), path: path)
        var shapes: [String: [Int]] = [:]
        for e in entries {
            var count = 1
            for d in e.shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p <= file.size else {
                    throw StorageError(
                        path, "tensor '\(e.name)' shape \(e.shape) is larger than the file")
                }
                count = p
            }
            shapes[e.name] = e.shape
        }
        return Header(shapes: shapes, metadata: metadata)
    }

    public static func write(_ file: File, to path: String) throws(StorageError) {
        try AtomicFile.write(try encode(file, path: path), to: path)
    }

    public static func encode(_ file: File, path: String = "safetensors") throws(StorageError)
        -> [UInt8]
    {
        var header: [String: Any] = [:]
        var offset = 0
        for t in file.tensors {
            guard t.shape.reduce(1, *) == t.values.count else {
                throw StorageError(
                    path, "tensor '\(t.name)' has \(t.values.count) values for shape \(t.shape)")
            }
            guard header[t.name] == nil, t.name != "__metadata__" else {
                throw StorageError(path, "duplicate tensor name '\(t.name)'")
            }
            header[t.name] =
                [
                    "dtype": "F32", "shape": t.shape,
                    "data_offsets": [offset, offset + 4 * t.values.count],
                ] as [String: Any]
            offset += 4 * t.values.count
        }
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        else {
            throw StorageError(path, "cannot encode the header")
        }
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count + offset)
        Bytes.append(UInt64(json.count), to: &out)
        out += json
        for t in file.tensors { Bytes.appendFloats(t.values, to: &out) }
        return out
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> File {
        guard bytes.count >= 8 else {
            throw StorageError(
                path,
                """
                truncated: \(bytes.count) bytes, a safetensors file starts with an 8-byte header \
                length
                """
            )
        }
        let headerLength = Bytes.uint64(bytes[0..<8])
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw StorageError(
                path,
                "header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)"
            )
        }
        guard headerLength <= UInt64(maximumHeaderBytes) else {
            throw StorageError(path, "header length \(headerLength) is unreasonably large")
        }
        let dataStart = 8 + Int(headerLength)
        let (entries, metadata) = try parseHeader(Data(bytes[8..<dataStart]), path: path)
        return File(
            tensors: try readTensors(entries, bytes: bytes, dataStart: dataStart, path: path),
            metadata: metadata)
    }

    typealias Entry = (name: String, dtype: String, shape: [Int], begin: Int, end: Int)

    private static func parseHeader(_ headerBytes: Data, path: String) throws(StorageError) -> (
        [Entry], [String: String]
    ) {
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes),
            let header = object as? [String: Any]
        else {
            throw StorageError(path, "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw StorageError(path, "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            entries.append(try parseEntry(name, value, path: path))
        }
        return (entries, metadata)
    }

    private static func parseEntry(_ name: String, _ value: Any, path: String) throws(StorageError)
        -> (name: String, dtype: String, shape: [Int], begin: Int, end: Int)
    {
        guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
            let shape = info["shape"] as? [Any], let offsets = info["data_offsets"] as? [Any]
        else {
            throw StorageError(path, "tensor '\(name)' needs dtype, shape and data_offsets")
        }
        let dims = shape.compactMap(exactInt)
        let range = offsets.compactMap(exactInt)
        guard dims.count == shape.count, dims.allSatisfy({ $0 >= 0 }) else {
            throw StorageError(path, "tensor '\(name)' has an invalid shape")
        }
        guard range.count == 2, range[0] >= 0, range[0] <= range[1] else {
            throw StorageError(path, "tensor '\(name)' has invalid data_offsets")
        }
        guard knownDtypes.contains(dtype) else {
            throw StorageError(path, "tensor '\(name)' has unknown dtype '\(dtype)'")
        }
        return (name, dtype, dims, range[0], range[1])
    }

    private static func exactInt(_ v: Any) -> Int? {
        if let i = v as? Int { return i }
        let d: Double
        if let x = v as? Double {
            d = x
        } else if let n = v as? NSNumber {
            d = n.doubleValue
        } else {
            return nil
        }
        guard d.rounded() == d, abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    private static func readTensors(
        _ entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)],
        bytes: [UInt8], dataStart: Int, path: String
    ) throws(StorageError) -> [NamedTensor] {
        let dataLength = bytes.count - dataStart
        let ordered = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var previousEnd = 0
        var tensors: [NamedTensor] = []
        for e in ordered {
            guard let width = readableWidths[e.dtype] else {
                throw StorageError(
                    path, "tensor '\(e.name)' has dtype \(e.dtype); only F32 and F64 can be read")
            }
            guard e.end <= dataLength else {
                throw StorageError(
                    path,
                    """
                    tensor '\(e.name)' data ends at \(e.end), past the data section (\(dataLength) \
                    bytes)
                    """
                )
            }
            guard e.begin >= previousEnd else {
                throw StorageError(path, "tensor '\(e.name)' overlaps another tensor's data")
            }
            var elements = 1
            for d in e.shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, p <= dataLength else {
                    throw StorageError(
                        path, "tensor '\(e.name)' shape \(e.shape) is larger than the file")
                }
                elements = p
            }
            guard elements * width == e.end - e.begin else {
                throw StorageError(
                    path,
                    """
                    tensor '\(e.name)' shape \(e.shape) needs \(elements * width) bytes, offsets \
                    give \(e.end - e.begin)
                    """
                )
            }
            previousEnd = e.end
            let values = Bytes.floats(
                bytes, offset: dataStart + e.begin, count: elements, width: width)
            tensors.append(NamedTensor(name: e.name, shape: e.shape, values: values))
        }
        return tensors.sorted { $0.name < $1.name }
    }
}
