import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A file the user names as input, opened the one safe way: only a regular file is read (a FIFO,
/// device, directory or socket is refused by name, without blocking on it), no larger than a bound,
/// and read in pieces so a header can be checked before the data it announces is taken into memory.
public final class InputFile {
    public let path: String
    public let size: Int
    let fd: Int32

    public init(_ path: String, maxBytes: Int = Limits.fileBytes) throws(StorageError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw StorageError(path, "cannot open (\(Self.reason()))")
        }
        if let kind = Self.irregular(info.st_mode) {
            throw StorageError(path, "not a regular file (\(kind))")
        }
        // Non-blocking, so a FIFO swapped in after the check does not hang the open; checked again
        // below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(path, "cannot open (\(Self.reason()))") }
        guard fstat(fd, &info) == 0, Self.irregular(info.st_mode) == nil else {
            close(fd)
            throw StorageError(path, "not a regular file")
        }
        self.fd = fd
        size = Int(info.st_size)
        guard size <= maxBytes else {
            close(fd)
            throw StorageError(
                path,
                "is \(Self.bytes(size)), more than the \(Self.bytes(maxBytes)) an input may have")
        }
    }

    deinit { close(fd) }

    /// `count` bytes from `offset` (fewer only at the end of the file).
    public func read(from offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        let wanted = max(0, min(count, size - offset))
        var bytes = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let n = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return pread(fd, base + done, wanted - done, off_t(offset + done))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw StorageError(path, "read failed after \(done) of \(wanted) bytes")
            }
            done += n
        }
        return bytes
    }

    /// The whole file.
    public func readAll() throws(StorageError) -> [UInt8] { try read(from: 0, count: size) }

    /// What a file of this mode is, when it is not a regular file.
    static func irregular(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFSOCK: "a socket"
        default: "a special file"
        }
    }

    static func reason() -> String { String(cString: strerror(errno)) }

    static func bytes(_ n: Int) -> String {
        n >= 1 << 30 ? "\(n >> 30) GiB" : n >= 1 << 20 ? "\(n >> 20) MiB" : "\(n) bytes"
    }
}
