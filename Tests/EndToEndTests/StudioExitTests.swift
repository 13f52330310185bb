import Foundation
import Testing

/// How the studio (and training) end, on a pseudo-terminal of their own. On a line that hangs up
/// (an SSH connection that drops, a window closed) while a model trains, the studio saves the
/// model and exits with status 0 within seconds. With SIGHUP it exited by a trap, writing its last
/// message to the lost terminal; without (the terminal was not its controlling one) it trained on
/// unseen, at full speed, for good.
@Suite struct StudioExitTests {
    /// A pseudo-terminal of 100×30: the terminal's end, and the path of the studio's end.
    static func openTerminal() -> (master: Int32, slave: String)? {
        typealias Call = @convention(c) (Int32) -> Int32
        typealias Name = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
        guard let grant = cLibrary("grantpt", as: Call.self),
            let unlock = cLibrary("unlockpt", as: Call.self),
            let name = cLibrary("ptsname", as: Name.self)
        else { return nil }
        // Close-on-exec: a studio that held the terminal's end would never see it hang up.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { return nil }
        var size = winsize(ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0)
        guard grant(master) == 0, unlock(master) == 0, let slave = name(master),
            ioctl(master, UInt(TIOCSWINSZ), &size) == 0
        else {
            close(master)
            return nil
        }
        return (master, String(cString: slave))
    }

    /// Starts `argv` with the terminal's end as its stdin, stdout and stderr.
    static func spawn(
        _ argv: [String], on slave: String, environment extra: [String: String] = [:]
    ) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, slave, O_RDWR | O_NOCTTY, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        closeOtherDescriptors(&actions)
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["TERM"] = "xterm-256color"
        let env = environment.map { "\($0.key)=\($0.value)" }
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, &cArgs, &cEnv) == 0 else { return nil }
        return pid
    }

    /// Reads what the studio draws, as a terminal would, until `done` holds or `seconds` pass.
    static func drain(_ master: Int32, seconds: Double, until done: (Int) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            if done(total) { return true }
            var polled = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&polled, 1, 100) >= 0 else { continue }
            if polled.revents & Int16(POLLIN) != 0 {
                let n = read(master, &buffer, buffer.count)
                if n > 0 { total += n }
            }
        }
        return done(total)
    }

    /// How a process ended: by `signal` (0: none), else with exit `code`.
    struct Exit {
        let signal: Int32, code: Int32
        init(_ status: Int32) { (signal, code) = (status & 0x7f, (status >> 8) & 0xff) }
    }

    /// Waits up to `seconds` for `pid` to end, reading `terminal` meanwhile when given (a studio
    /// draws while it saves); how it ended, or nil (then it is killed).
    static func exit(of pid: pid_t, seconds: Double, reading terminal: Int32? = nil) -> Exit? {
        var status: Int32 = 0
        let ended = { waitpid(pid, &status, WNOHANG) == pid }
        let found =
            terminal.map { drain($0, seconds: seconds) { _ in ended() } }
            ?? waitUntil(seconds, ended)
        guard found else {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            return nil
        }
        return Exit(status)
    }

    /// The terminal's end after it has shown `bytes` of `argv`'s output, and its pid.
    static func start(
        _ argv: [String], drawing bytes: Int, environment: [String: String] = [:]
    ) throws -> (master: Int32, pid: pid_t) {
        let terminal = try #require(openTerminal(), "no pseudo-terminal")
        guard let pid = spawn(argv, on: terminal.slave, environment: environment) else {
            close(terminal.master)
            throw Failure(description: "cannot start \(argv)")
        }
        #expect(drain(terminal.master, seconds: 60) { $0 >= bytes }, "\(argv) showed nothing")
        return (terminal.master, pid)
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// `setsid --ctty` makes the terminal the studio's controlling one, so that its hang-up also
    /// sends SIGHUP; plain, the terminal only stops answering.
    @Test(arguments: [false, true])
    func theStudioSavesAndLeavesWhenItsTerminalHangsUp(controlling: Bool) throws {
        let dir = scratchDirectory()
        let studio = [Binary.path, "studio", "--data", "moons", "--runs", "\(dir)/runs"]
        // The first frame is several kilobytes.
        let started = try Self.start(
            controlling ? ["/usr/bin/setsid", "--ctty"] + studio : studio, drawing: 2000)
        var master = started.master
        defer { if master >= 0 { close(master) } }
        _ = write(master, "t", 1)
        let run = "\(dir)/runs/moons-D128"
        let logged = { (try? Data(contentsOf: URL(fileURLWithPath: "\(run)/stats.jsonl")))?.count }
        #expect(Self.drain(master, seconds: 60) { _ in logged() ?? 0 > 0 }, "t trained nothing")
        close(master)
        master = -1
        let exit = try #require(
            Self.exit(of: started.pid, seconds: 30), "still running 30 s after its terminal hung up"
        )
        #expect(exit.signal == 0, "ended by signal \(exit.signal)")
        #expect(exit.signal != 0 || exit.code == 0, "exit status \(exit.code)")
        #expect(exists("\(run)/checkpoint.safetensors"), "the model was not saved")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: run)) ?? []
        #expect(!files.contains { $0.contains(".tmp-") }, "half-written files: \(files)")
    }

    /// Headless training stops at a clean point on SIGHUP: it saves, says so on a terminal that is
    /// gone, and exits 1 as for any stop (it exited by a trap on that last line).
    @Test func trainingSavesAndStopsWhenItsTerminalHangsUp() throws {
        let dir = scratchDirectory()
        let train = [
            Binary.path, "train", "--data", "moons", "--aug-dim", "8", "--steps", "10000000",
            "--out", "\(dir)/run",
        ]
        // A progress bar is redrawn every 0.1 s.
        let (master, pid) = try Self.start(["/usr/bin/setsid", "--ctty"] + train, drawing: 200)
        close(master)
        let exit = try #require(
            Self.exit(of: pid, seconds: 30), "still running 30 s after its terminal hung up")
        #expect(exit.signal == 0, "ended by signal \(exit.signal)")
        #expect(exit.code == 1, "exit status \(exit.code)")
        #expect(exists("\(dir)/run/checkpoint.safetensors"), "the model was not saved")
    }

    /// q while the fd-fmnist classifier trains for the first time on a thread of its own: the
    /// studio waits for it to stop at its next batch, caches nothing half-trained, and exits 0.
    /// (The crash this prevents, exiting beneath that thread's matrix products, came in 2 of 10
    /// quits soon after opening fmnist14; `FrechetTests` checks the wait itself.)
    @Test func quittingWhileTheClassifierTrainsEndsCleanly() throws {
        let dir = scratchDirectory()
        let studio = [Binary.path, "studio", "--data", "fmnist7", "--runs", "\(dir)/runs"]
        let cache = "\(dir)/cache"
        let started = try Self.start(
            studio, drawing: 2000, environment: ["PFGM_CACHE_DIR": cache])
        defer { close(started.master) }
        // Leave the classifier a moment to start.
        _ = Self.drain(started.master, seconds: 1) { _ in false }
        _ = write(started.master, "q", 1)
        let exit = try #require(
            Self.exit(of: started.pid, seconds: 60, reading: started.master),
            "still running 60 s after q")
        #expect(exit.signal == 0, "ended by signal \(exit.signal)")
        #expect(exit.code == 0, "exit status \(exit.code)")
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
        #expect(!cached.contains { $0.hasPrefix("fd-classifier") }, "cached: \(cached)")
    }
}
