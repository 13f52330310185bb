import Engine
import Foundation
import TUI
import Testing

/// Drives the real studio in tmux: panels, D, NFE and α on screen; → moves D; r resamples;
/// resizing survives; q exits with status 0 and gives the terminal back.
@Suite(.serialized) struct StudioTmuxTests {
    let socket = "pfgm-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    /// Runs a tmux client command through posix_spawn and waitpid, its output going to a file: a
    /// server started by the command inherits the client's descriptors, so a pipe would never end.
    @discardableResult
    func tmux(_ arguments: [String]) -> String {
        let path = NSTemporaryDirectory() + "\(socket)-out"
        let argv = ["tmux", "-L", socket] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        closeOtherDescriptors(&actions)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, "tmux", &actions, nil, &cArgs, environ) == 0 else { return "" }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    func screen() -> String { tmux(["capture-pane", "-p", "-t", "studio"]) }

    /// Polls the screen until `condition` holds (every 100 ms, up to `seconds`).
    func waitFor(_ seconds: Double = 20, _ condition: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var text = screen()
        while !condition(text) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            text = screen()
        }
        return text
    }

    /// The preview panel's inside, where the studio's layout puts it on a 100×30 screen.
    func previewRows(_ text: String) -> String {
        guard let panel = Layout(width: 100, height: 30)?.preview else { return "" }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.dropFirst(panel.y + 1).prefix(panel.height - 2).map {
            String($0.dropFirst(panel.x + 1).prefix(panel.width - 2))
        }.joined(separator: "\n")
    }

    @Test func studioInTmux() throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"),
            "tmux is missing: ./scripts/test installs it")
        let dir = scratchDirectory()
        let command =
            """
            cd \(dir) && TERM=screen-256color \(Binary.path) studio --data moons --seed 3 \
            --threads 1; echo \"exit=$?\" > \(dir)/exit; echo DONE; sleep 30
            """
        tmux(["new-session", "-d", "-x", "100", "-y", "30", "-s", "studio", command])
        defer { tmux(["kill-server"]) }

        var text = waitFor { $0.contains("Samples ·") && $0.contains("Metrics") }
        for title in [
            "PFGM++ Studio", "Augmented dimension D", "Controls", "Metrics", "Samples", "Loss",
        ] {
            #expect(text.contains(title), "\(title) missing:\n\(text)")
        }
        #expect(
            text.contains("D=128") && text.contains("NFE 35") && text.contains("noise α"), "\(text)"
        )

        tmux(["send-keys", "-t", "studio", "Right"])
        text = waitFor { $0.contains("│ D=256 │") && $0.contains("oracle (no model at D=256") }
        #expect(text.contains("│ D=256 │"), "D did not move:\n\(text)")

        let before = previewRows(text)
        tmux(["send-keys", "-t", "studio", "r"])
        text = waitFor { previewRows($0) != before && $0.contains("seed        4") }
        #expect(previewRows(text) != before, "r did not change the preview")

        tmux(["resize-window", "-t", "studio", "-x", "60", "-y", "20"])
        // At 60 columns the status line keeps D and drops the name first.
        text = waitFor { screen in
            screen.contains("Controls")
                && (screen.split(separator: "\n").first.map {
                    $0.count <= 60 && $0.contains("D=256")
                } ?? false)
        }
        #expect(
            text.split(separator: "\n").first.map { $0.count <= 60 && $0.contains("D=256") }
                ?? false, "60×20 was not redrawn:\n\(text)")
        #expect(text.contains("Controls"), "60×20 lost the controls:\n\(text)")
        tmux(["resize-window", "-t", "studio", "-x", "100", "-y", "30"])
        // Wait for the whole 100×30 layout: a capture can land between a resize and the full
        // redraw.
        text = waitFor { screen in
            ["Augmented dimension D", "Controls", "Metrics", "Loss"].allSatisfy {
                screen.contains($0)
            }
                && (screen.split(separator: "\n").first.map { $0.count > 60 } ?? false)
        }
        #expect(text.contains("Loss") && text.contains("Metrics"), "\(text)")

        tmux(["send-keys", "-t", "studio", "q"])
        text = waitFor { $0.contains("DONE") }
        let exit = try? String(contentsOfFile: "\(dir)/exit", encoding: .utf8)
        #expect(exit?.trimmingCharacters(in: .whitespacesAndNewlines) == "exit=0")
        #expect(
            text.contains("DONE") && !text.contains("Controls"), "terminal not restored:\n\(text)")
    }

    @Test func terminalsWithoutCursorControlColourOrUTF8() throws {
        let dir = scratchDirectory()
        defer { tmux(["kill-server"]) }
        tmux([
            "new-session", "-d", "-x", "80", "-y", "24", "-s", "dumb",
            """
            cd \(dir) && TERM=dumb \(Binary.path) studio 2> \(dir)/err; echo \"exit=$?\" >> \
            \(dir)/err; sleep 30
            """,
        ])
        let deadline = Date().addingTimeInterval(15)
        while !((try? String(contentsOfFile: "\(dir)/err", encoding: .utf8))?.contains("exit=")
            ?? false) && Date() < deadline
        {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let err = (try? String(contentsOfFile: "\(dir)/err", encoding: .utf8)) ?? ""
        #expect(err.contains("cannot move the cursor") && err.contains("exit=1"), "\(err)")

        let command =
            """
            cd \(dir) && TERM=vt100 LANG=C LC_ALL=C NO_COLOR=1 \(Binary.path) studio --data rings \
            --runs runs2 2> \(dir)/err2; echo \"exit=$?\" > \(dir)/exit; echo DONE; sleep 30
            """
        tmux(["new-session", "-d", "-x", "20", "-y", "10", "-s", "studio", command])
        var text = waitFor { $0.contains("too small") }
        #expect(
            text.contains("Terminal too small"),
            "\(text) \((try? String(contentsOfFile: "\(dir)/err2", encoding: .utf8)) ?? "")")
        tmux(["resize-window", "-t", "studio", "-x", "80", "-y", "24"])
        text = waitFor { $0.contains("Controls") && $0.contains("Samples") }
        #expect(text.contains("+-") && text.unicodeScalars.allSatisfy { $0.isASCII }, "\(text)")
        tmux(["send-keys", "-t", "studio", "q"])
        text = waitFor { $0.contains("DONE") }
        #expect(
            (try? String(contentsOfFile: "\(dir)/exit", encoding: .utf8))?.contains("exit=0")
                == true)
    }

    @Test(arguments: [SIGTERM, SIGHUP, SIGINT])
    func signalsSaveTheModelAndRestoreTheTerminal(signal: Int32) throws {
        let dir = scratchDirectory()
        defer { tmux(["kill-server"]) }
        let command =
            """
            cd \(dir) && \(Binary.path) studio --data moons --runs \(dir)/runs --threads 1; echo \
            \"exit=$?\" > \(dir)/exit; echo DONE; sleep 30
            """
        tmux(["new-session", "-d", "-x", "100", "-y", "30", "-s", "studio", command])
        _ = waitFor { $0.contains("Samples ·") }
        tmux(["send-keys", "-t", "studio", " "])
        let text = waitFor { screen in
            screen.split(separator: "\n").first.flatMap {
                $0.split(separator: "│").first { $0.contains("step ") }
            }
            .flatMap { Int($0.trimmingCharacters(in: .whitespaces).dropFirst(5)) }.map { $0 >= 20 }
                ?? false
        }
        #expect(text.contains("training"), "\(text)")
        let studio = try #require(studioProcess())
        kill(studio, signal)
        let after = waitFor { $0.contains("DONE") }
        #expect(
            (try? String(contentsOfFile: "\(dir)/exit", encoding: .utf8))?.contains("exit=0")
                == true)
        #expect(
            after.contains("DONE") && !after.contains("Controls"),
            "terminal not restored:\n\(after)")
        let saved = try SafeTensors.read("\(dir)/runs/moons-D128/optimizer.safetensors")
        #expect(Int(saved.metadata["step"] ?? "0") ?? 0 >= 20)
    }

    /// A fatal signal (a crash) still gives the terminal back: the alternate screen is left and the
    /// cursor shown, and the signal ends the process as it would have.
    @Test(arguments: [SIGSEGV, SIGABRT, SIGILL, SIGBUS])
    func fatalSignalsLeaveTheAlternateScreenAndShowTheCursor(signal: Int32) throws {
        let dir = scratchDirectory()
        defer { tmux(["kill-server"]) }
        let command =
            """
            cd \(dir) && \(Binary.path) studio --data moons --threads 1; echo \"exit=$?\" > \
            \(dir)/exit; sleep 30
            """
        tmux(["new-session", "-d", "-x", "100", "-y", "30", "-s", "studio", command])
        _ = waitFor { $0.contains("Samples ·") }
        let state = {
            self.tmux(["display-message", "-p", "-t", "studio", "#{alternate_on} #{cursor_flag}"])
        }
        #expect(
            state().hasPrefix("1 0"), "the studio did not take the alternate screen: \(state())")
        let studio = try #require(studioProcess())
        kill(studio, signal)
        #expect(waitUntil(20) { exists("\(dir)/exit") })
        let exit = (try? String(contentsOfFile: "\(dir)/exit", encoding: .utf8)) ?? ""
        #expect(exit.contains("exit=\(128 + signal)"), "\(exit)")
        #expect(
            state().hasPrefix("0 1"),
            "terminal left in the alternate screen or without a cursor: \(state())")
    }

    /// The studio's pid: the pane runs a shell, and the studio is its child.
    func studioProcess() -> Int32? {
        let pid = tmux(["display-message", "-p", "-t", "studio", "#{pane_pid}"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let children =
            (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8))
            ?? ""
        return children.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// The step on the status line ("│ step 1234 │"), or nil.
    func statusStep(_ screen: String) -> Int? {
        screen.split(separator: "\n").first.flatMap {
            $0.split(separator: "│").first { $0.contains("step ") }
        }
        .flatMap { Int($0.trimmingCharacters(in: .whitespaces).dropFirst(5)) }
    }

    /// `studio --follow` on a run `pfgm train` trains: the step and the loss move on screen, the
    /// trainer takes its lock (it resumes while followed), and nothing new appears in the run's
    /// folder.
    @Test func followsARunThatPfgmTrainTrains() throws {
        let dir = scratchDirectory()
        defer { tmux(["kill-server"]) }
        let small = [
            "--width", "32", "--depth", "1", "--batch", "64", "--threads", "1", "--log-every", "20",
            "--save-every", "200",
        ]
        let first = Binary.run(
            ["train", "--data", "moons", "--aug-dim", "8", "--steps", "200", "--out", "run"]
                + small, in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: dir + "/run")) ?? [])

        let command =
            """
            cd \(dir) && \(Binary.path) studio --follow run --threads 1; echo \"exit=$?\" > \
            \(dir)/exit; echo DONE; sleep 30
            """
        tmux(["new-session", "-d", "-x", "120", "-y", "30", "-s", "studio", command])
        var text = waitFor { $0.contains("◉ following") && $0.contains("followed D=8, step 200") }
        #expect(text.contains("Loss · followed D=8") && text.contains("finished"), "\(text)")

        // The trainer resumes while followed: it gets its lock, and the screen follows its steps.
        let trainer = Process()
        trainer.executableURL = URL(fileURLWithPath: Binary.path)
        trainer.arguments = ["train", "--resume", "run", "--steps", "1000000"] + small.suffix(6)
        trainer.currentDirectoryURL = URL(fileURLWithPath: dir)
        let log = dir + "/train.err"
        #expect(FileManager.default.createFile(atPath: log, contents: nil))
        trainer.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        trainer.standardOutput = FileHandle.nullDevice
        try trainer.run()
        text = waitFor(30) {
            (statusStep($0) ?? 0) > 200 && $0.contains("trainer pid \(trainer.processIdentifier)")
        }
        let seen = statusStep(text) ?? 0
        #expect(seen > 200, "the step did not move:\n\(text)")
        text = waitFor(30) {
            (statusStep($0) ?? 0) > seen && $0.contains("Samples · followed D=8, step")
                && !$0.contains("step 200 ·")
        }
        #expect(
            (statusStep(text) ?? 0) > seen
                && text.range(of: "loss [0-9]", options: .regularExpression) != nil, "\(text)")
        kill(trainer.processIdentifier, SIGINT)
        trainer.waitUntilExit()
        let trained = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(trained.contains("stopped at step") && !trained.contains("in use"), "\(trained)")
        text = waitFor { $0.contains("no trainer running") }
        #expect(text.contains("no trainer running"), "\(text)")

        tmux(["send-keys", "-t", "studio", "q"])
        _ = waitFor { $0.contains("DONE") }
        #expect(
            (try? String(contentsOfFile: "\(dir)/exit", encoding: .utf8))?.contains("exit=0")
                == true)
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: dir + "/run")) ?? [])
        #expect(
            after == before, "the followed folder changed: \(after.symmetricDifference(before))")
    }
}
