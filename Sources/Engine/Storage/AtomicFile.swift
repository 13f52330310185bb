import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads whole files and writes them atomically: bytes go to a temporary file in the same folder,
/// are flushed to disk, and the file is renamed over the target, so readers see the old file or
/// the new one, never a torn one.
public enum AtomicFile {
    /// A whole input file (a regular file of at most `maxBytes`; see `InputFile`).
    public static func read(
        _ path: String, maxBytes: Int = Limits.fileBytes
    ) throws(StorageError) -> [UInt8] {
        try InputFile(path, maxBytes: maxBytes).readAll()
    }

    public static func write(_ bytes: [UInt8], to path: String) throws(StorageError) {
        let outputs = OutputSet()
        try outputs.add(path, bytes: bytes)
        try outputs.commit()
    }

    /// Writes through `body` into a temporary file, then renames it over `path`.
    /// On any failure the temporary file is removed and `path` is untouched.
    public static func write(
        to path: String, _ body: (Int32) throws(StorageError) -> Void
    ) throws(StorageError) {
        let outputs = OutputSet()
        try outputs.add(path, body)
        try outputs.commit()
    }

    /// Writes all of `bytes` to an open file.
    public static func write(_ bytes: [UInt8], to fd: Int32, path: String) throws(StorageError) {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try writeAll(fd, raw, path: path) }
        }.get()
    }

    public static func writeAll(
        _ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String
    ) throws(StorageError) {
        guard let base = raw.baseAddress else { return }
        var done = 0
        while done < raw.count {
            let n = Glibc.write(fd, base + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw StorageError(path, "write failed (\(String(cString: strerror(errno))))")
            }
            done += n
        }
    }

    /// Makes the rename itself durable.
    static func syncDirectory(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}

/// The outputs of one command, written whole or not at all: each goes to a temporary file beside
/// its target, flushed to disk; `commit` renames them over their targets once every one is
/// complete, and a failure (or a set dropped uncommitted) removes the temporaries. Only regular
/// files are ever replaced: a target that is a device, a FIFO, a folder or a socket is refused, and
/// a symbolic link is written through. Temporaries that a killed process left for the same target
/// (its pid is in their name) are removed on the way.
public final class OutputSet {
    private var pending: [(temporary: String, target: String)] = []

    public init() {}

    deinit { for p in pending { unlink(p.temporary) } }

    /// The file that writing `path` replaces: `path`, or the file its symbolic link names (which
    /// writing creates when it does not exist yet).
    public static func target(of path: String, links: Int = 0) throws(StorageError) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return path }
        if (info.st_mode & S_IFMT) == S_IFLNK {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(path, &buffer, buffer.count - 1)
            guard n > 0, links < 16 else { throw StorageError(path, "cannot resolve the link") }
            let destination = String(
                decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let folder = (path as NSString).deletingLastPathComponent
            let next =
                destination.hasPrefix("/") || folder.isEmpty
                ? destination : folder + "/" + destination
            return try target(of: next, links: links + 1)
        }
        if let kind = InputFile.irregular(info.st_mode) {
            throw StorageError(
                path, "is \(kind), not a regular file; only regular files are written")
        }
        return path
    }

    /// Refuses an output `path` before any work: its folder must exist and the path must not be
    /// anything but a regular file.
    public static func check(_ path: String) throws(StorageError) {
        let target = try target(of: path)
        let folder = (target as NSString).deletingLastPathComponent
        var info = stat()
        guard stat(folder.isEmpty ? "." : folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR
        else {
            throw StorageError(path, "the folder \(folder.isEmpty ? "." : folder) does not exist")
        }
    }

    /// Whether `path` is among the files added.
    public func has(_ path: String) -> Bool {
        let target = (try? Self.target(of: path)) ?? path
        return pending.contains { $0.target == target }
    }

    public func add(_ path: String, bytes: [UInt8]) throws(StorageError) {
        try add(path) { fd throws(StorageError) in try AtomicFile.write(bytes, to: fd, path: path) }
    }

    /// Writes `path`'s contents through `body` into its temporary file (not yet visible under
    /// `path`).
    public func add(
        _ path: String, _ body: (Int32) throws(StorageError) -> Void
    ) throws(StorageError) {
        let target = try Self.target(of: path)
        Self.removeStaleTemporaries(of: target)
        let temporary = "\(target).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError(path, "cannot create (\(String(cString: strerror(errno))))")
        }
        pending.append((temporary, target))
        do throws(StorageError) {
            try body(fd)
            guard fsync(fd) == 0 else {
                throw StorageError(
                    path, "cannot flush to disk (\(String(cString: strerror(errno))))")
            }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else {
            throw StorageError(path, "cannot close (\(String(cString: strerror(errno))))")
        }
    }

    /// Renames every output over its target.
    public func commit() throws(StorageError) {
        while !pending.isEmpty {
            let (temporary, target) = pending[0]
            guard rename(temporary, target) == 0 else {
                throw StorageError(target, "cannot replace (\(String(cString: strerror(errno))))")
            }
            pending.removeFirst()
            AtomicFile.syncDirectory(of: target)
        }
    }

    /// Removes `target.tmp-PID-*` files whose process no longer runs.
    static func removeStaleTemporaries(of target: String) {
        let folder = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        let prefix = name + ".tmp-"
        guard
            let entries = try? FileManager.default.contentsOfDirectory(
                atPath: folder.isEmpty ? "." : folder)
        else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let fields = entry.dropFirst(prefix.count).split(separator: "-")
            guard fields.count == 2, let pid = Int32(fields[0]), UInt32(fields[1]) != nil,
                pid != getpid(),
                kill(pid, 0) != 0 && errno == ESRCH
            else { continue }
            unlink(folder.isEmpty ? entry : folder + "/" + entry)
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
                    out[i] = Float(
                        bitPattern: UInt32(
                            littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                } else {
                    out[i] = Float(
                        Double(
                            bitPattern: UInt64(
                                littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))
                        ))
                }
            }
        }
        return out
    }
}
