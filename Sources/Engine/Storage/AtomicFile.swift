import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads whole files and writes them atomically: bytes go to a temporary file in the same folder,
/// are flushed to disk, and the file is renamed over the target, so readers see the old file or
/// the new one, never a torn one.
public enum AtomicFile {
    /// A whole input file (a regular file of at most `maxBytes`; see `InputFile`).
    public static func read(_ path: String, maxBytes: Int = Limits.fileBytes) throws(StorageError) -> [UInt8] {
        try InputFile(path, maxBytes: maxBytes).readAll()
    }

    public static func write(_ bytes: [UInt8], to path: String) throws(StorageError) {
        try write(to: path) { fd throws(StorageError) in
            try bytes.withUnsafeBytes { raw in
                Result { () throws(StorageError) in try writeAll(fd, raw, path: path) }
            }.get()
        }
    }

    /// Writes through `body` into a temporary file, then renames it over `path`.
    /// On any failure the temporary file is removed and `path` is untouched.
    public static func write(to path: String, _ body: (Int32) throws(StorageError) -> Void) throws(StorageError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError(path, "cannot create (\(String(cString: strerror(errno))))") }
        do throws(StorageError) {
            try body(fd)
            guard fsync(fd) == 0 else { throw StorageError(path, "cannot flush to disk (\(String(cString: strerror(errno))))") }
            guard close(fd) == 0 else {
                unlink(temporary)
                throw StorageError(path, "cannot close (\(String(cString: strerror(errno))))")
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StorageError(path, "cannot replace (\(reason))")
        }
        syncDirectory(of: path)
    }

    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws(StorageError) {
        guard let base = raw.baseAddress else { return }
        var done = 0
        while done < raw.count {
            let n = Glibc.write(fd, base + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw StorageError(path, "write failed (\(String(cString: strerror(errno))))") }
            done += n
        }
    }

    /// Makes the rename itself durable.
    private static func syncDirectory(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}

/// Little-endian byte reading and writing helpers.
enum Bytes {
    static func uint64(_ b: ArraySlice<UInt8>) -> UInt64 {
        b.reversed().reduce(0) { ($0 << 8) | UInt64($1) }
    }

    static func append(_ v: UInt64, to out: inout [UInt8], bytes: Int = 8) {
        for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    static func appendFloats(_ values: [Float], to out: inout [UInt8]) {
        #if _endian(little)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        for v in values { append(UInt64(v.bitPattern), to: &out, bytes: 4) }
        #endif
    }

    /// Decodes `count` little-endian float32 or float64 values starting at `offset`.
    static func floats(_ b: [UInt8], offset: Int, count: Int, width: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        b.withUnsafeBytes { raw in
            for i in 0..<count {
                let o = offset + i * width
                if width == 4 {
                    out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                } else {
                    out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
                }
            }
        }
        return out
    }
}
