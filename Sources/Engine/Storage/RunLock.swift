import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive advisory lock (flock) on a file, held until released or the process ends, so two
/// processes never write the same run. The file records the holder's pid for the error message.
public final class RunLock {
    private let fd: Int32
    public let path: String

    /// Takes the lock or says who holds it.
    public init(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError(
                path, "cannot create the lock file (\(String(cString: strerror(errno))))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buffer, 31)
            let holder =
                n > 0
                ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines) : "?"
            close(fd)
            throw StorageError(
                path, "in use by another pfgm process (pid \(holder)); close it first")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
        self.path = path
    }

    /// The lock of a run directory (DIR/.lock). Holding it, any temporary file left in the folder
    /// by a writer that was killed is stale, and is removed.
    public convenience init(run: RunDirectory) throws(StorageError) {
        try self.init(run.path + "/.lock")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []
        for file in files where file.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: "\(run.path)/\(file)")
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
