import Foundation
import Testing

/// Runs the built `pfgm` binary, which sits beside the test bundle in the build folder.
struct Binary {
    static let path: String = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [here, here.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("pfgm").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return package.appendingPathComponent(".build/release/pfgm").path
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The non-empty lines of stderr.
        var errorLines: [String] {
            stderr.split(separator: "\n").map(String.init).filter {
                !$0.trimmingCharacters(in: .whitespaces).isEmpty
            }
        }
    }

    /// Starts pfgm without waiting for it (output discarded).
    static func launch(_ arguments: [String], in directory: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs pfgm through `sh` under `ulimit -v memoryKiB` and `timeout -s KILL seconds` (a kill
    /// reads 137).
    static func runBounded(
        _ arguments: [String], in directory: String, seconds: Int, memoryKiB: Int
    ) -> Result {
        let quoted = arguments.map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }
            .joined(separator: " ")
        let script = "ulimit -v \(memoryKiB); exec timeout -s KILL \(seconds) '\(path)' \(quoted)"
        return run(["-c", script], in: directory, executable: "/bin/sh")
    }

    /// Runs pfgm (or `executable`, e.g. a wrapper such as taskset) and waits for it.
    static func run(
        _ arguments: [String], in directory: String, environment: [String: String] = [:],
        executable: String = path, input: Data? = nil
    ) -> Result {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        do { try process.run() } catch {
            return Result(status: -1, stdout: "", stderr: "cannot start \(path): \(error)")
        }
        if let input {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // A signal reads as 128 + its number, as shells report it (Process gives the bare number).
        let signalled = process.terminationReason == .uncaughtSignal
        let status = signalled ? 128 + process.terminationStatus : process.terminationStatus
        return Result(
            status: status, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

func scratchDirectory() -> String {
    let path = NSTemporaryDirectory() + "pfgm-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// Polls `condition` (every 20 ms) until it holds or `seconds` pass; true when it held.
func waitUntil(_ seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { return false }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return true
}

/// Runs a command that must fail: one line on stderr, non-zero status, and `output` not created.
func expectRejection(
    _ arguments: [String], in dir: String, output: String? = nil, mentions: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let r = Binary.run(arguments, in: dir)
    #expect(r.status != 0, "accepted: \(arguments)", sourceLocation: sourceLocation)
    #expect(r.errorLines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    if let output {
        #expect(
            !exists("\(dir)/\(output)"), "\(output) was left behind", sourceLocation: sourceLocation
        )
    }
    let leftovers =
        (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.contains(".tmp-") }
        ?? []
    #expect(leftovers.isEmpty, "temporary files left: \(leftovers)", sourceLocation: sourceLocation)
}

/// A function of the C library that its headers show only to X/Open or GNU code.
func cLibrary<T>(_ name: String, as type: T.Type) -> T? {
    dlsym(dlopen(nil, RTLD_NOW), name).map { unsafeBitCast($0, to: type) }
}

/// Closes every descriptor above stderr in a spawned child. Tests run side by side: a file that
/// one holds open for writing while another's child starts stays unrunnable ("text file busy") for
/// as long as that child lives, and a terminal's end held by a child never hangs up.
func closeOtherDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    typealias CloseFrom =
        @convention(c) (
            UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32
        ) -> Int32
    if let closeFrom = cLibrary("posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self) {
        _ = closeFrom(&actions, 3)
        return
    }
    for fd in Int32(3)..<1024 where fcntl(fd, F_GETFD) != -1 {
        posix_spawn_file_actions_addclose(&actions, fd)
    }
}
