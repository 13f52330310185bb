import Engine
import Foundation
import Testing

/// The views that show what D does, driven in the real binary under tmux at 80×24 and 200×60 on
/// checkerboard and fmnist14: the loss overlay, the coupled grid, the nearest images, true colour,
/// export (whose command draws the same samples again), and titles cut at words.
extension StudioTmuxTests {
    func key(_ keys: String...) { tmux(["send-keys", "-t", "studio"] + keys) }

    /// The JSON of the newest export whose name holds `view`.
    func newestExport(_ folder: String, _ view: String) -> [String: Any]? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        guard let name = names.filter({ $0.hasSuffix(".json") && $0.contains("-\(view)-") }).max(),
            let data = FileManager.default.contents(atPath: "\(folder)/\(name)")
        else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// Runs an export's command with this build and one thread, as the studio sampled.
    func runAgain(_ line: String, in dir: String) -> Binary.Result {
        let script = "'\(Binary.path)' \(line.dropFirst("pfgm ".count)) --threads 1"
        return Binary.run(["-c", script], in: dir, executable: "/bin/sh")
    }

    @Test(arguments: [
        ("checkerboard", 80, 24), ("checkerboard", 200, 60), ("fmnist14", 200, 60),
        ("fmnist14", 80, 24),
    ])
    func theGlanceViewsWorkInTheRealStudio(data: String, width: Int, height: Int) throws {
        let dir = scratchDirectory()
        let command =
            """
            cd \(dir) && env -u NO_COLOR TERM=tmux-256color COLORTERM=truecolor \(Binary.path) \
            studio --data \(data) --threads 1 --runs runs; echo \"exit=$?\" > \(dir)/exit; \
            echo DONE; sleep 30
            """
        tmux(["new-session", "-d", "-x", "\(width)", "-y", "\(height)", "-s", "studio", command])
        defer { tmux(["kill-server"]) }
        var text = waitFor(60) { $0.contains("Samples ·") && $0.contains("NFE 35") }
        #expect(text.contains("Samples ·"), "\(text)")
        // The title ends at a word: the oracle's aside goes first at 80 columns.
        #expect(!text.contains("t trains one…"))
        #expect(text.contains("(no model at D=128;") == (width > 80), "\(text)")

        // True colour: 24-bit escapes, and for images grey levels off the 256-colour ramp. A
        // capture can land mid-frame: poll until the images are in it.
        var escapes = ""
        _ = waitUntil(30) {
            escapes = tmux(["capture-pane", "-p", "-e", "-t", "studio"])
            return data != "fmnist14" || Self.offRampGreys(escapes) > 0
        }
        #expect(
            escapes.contains("38;2;") && !escapes.contains("38;5;"),
            "no 24-bit colour: \(escapes.prefix(400).debugDescription)")
        if data == "fmnist14" {
            #expect(Self.offRampGreys(escapes) > 0, "no 24-bit greys in the images")
        }

        // Two models train in turn; L overlays their losses.
        key("Space")
        text = waitFor(60) { $0.contains("● training") }
        Thread.sleep(forTimeInterval: 2)
        key("Left")
        key("t")
        text = waitFor(60) { $0.contains("training D=64") }
        Thread.sleep(forTimeInterval: 2)
        key("Space")
        key("L")
        // L acts at once, before the engine has paused: wait for the whole panel.
        text = waitFor(30) { $0.contains("■D=64") && $0.contains("■D=128") }
        #expect(text.contains("Loss · every model"), "no overlay:\n\(text)")
        #expect(text.contains("■D=64") && text.contains("■D=128"), "no overlay legend:\n\(text)")

        // The coupled grid, exported: its commands draw the panels again.
        key("c")
        text = waitFor(120) {
            $0.contains("Same noise across D") && $0.contains("D=inf") && $0.contains("drawn in")
        }
        #expect(text.contains("Same noise across D") && text.contains("D=inf"), "\(text)")
        key("e")
        text = waitFor(30) { $0.contains("exported") }
        #expect(text.contains("exported"), "no export message:\n\(text)")
        let coupled = newestExport("\(dir)/runs/exports", "coupled")
        let commands = coupled?["commands"] as? [String] ?? []
        #expect(!commands.isEmpty && commands.allSatisfy { $0.contains("--coupled") })
        for line in commands {
            let again = runAgain(line, in: dir)
            #expect(again.status == 0, "\(line): \(again.stderr)")
        }
        #expect(exists((coupled?["png"] as? String) ?? "/nonexistent"))

        // The preview, exported: its command draws exactly its samples (same arithmetic, one
        // thread on both sides).
        key("Escape")
        key("e")
        Thread.sleep(forTimeInterval: 1)
        #expect(waitUntil(30) { newestExport("\(dir)/runs/exports", "preview") != nil })
        let preview = newestExport("\(dir)/runs/exports", "preview")
        let line = (preview?["commands"] as? [String])?.first ?? ""
        #expect(line.contains("--ckpt") && line.contains("--aug-dim 64"), "\(line)")
        let again = runAgain(line, in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        let out = line.components(separatedBy: "--out ").last?.split(separator: " ").first
        let exported = try NPY.readMatrix((preview?["samples"] as? String) ?? "")
        let redrawn = try NPY.readMatrix(out.map(String.init) ?? "")
        #expect(exported.storage == redrawn.storage, "the command drew other samples")

        if data == "fmnist14" {
            key("k")
            text = waitFor(30) { $0.contains("Nearest training image") }
            #expect(text.contains("Nearest training image"), "\(text)")
            key("Escape")
        }
        key("q")
        text = waitFor(60) { $0.contains("DONE") }
        let exit = try? String(contentsOfFile: "\(dir)/exit", encoding: .utf8)
        #expect(exit?.trimmingCharacters(in: .whitespacesAndNewlines) == "exit=0")
    }

    /// Background greys whose level is neither on the 256-colour ramp nor the cube: only 24-bit
    /// greys give them.
    static func offRampGreys(_ escapes: String) -> Int {
        let palette = Set((0..<24).map { 8 + 10 * $0 } + [0, 95, 135, 175, 215, 255])
        var count = 0
        for part in escapes.components(separatedBy: "48;2;").dropFirst() {
            let values = part.split(whereSeparator: { !$0.isNumber }).prefix(3).compactMap {
                Int($0)
            }
            if values.count == 3, values[0] == values[1], values[1] == values[2],
                !palette.contains(values[0])
            {
                count += 1
            }
        }
        return count
    }

    /// NO_COLOR wins over COLORTERM: no colour escapes at all.
    @Test func noColourWinsOverTrueColour() throws {
        let dir = scratchDirectory()
        let command =
            """
            cd \(dir) && TERM=tmux-256color COLORTERM=truecolor NO_COLOR=1 \(Binary.path) studio \
            --data fmnist14 --runs runs; echo \"exit=$?\" > \(dir)/exit; echo DONE; sleep 30
            """
        tmux(["new-session", "-d", "-x", "100", "-y", "30", "-s", "studio", command])
        defer { tmux(["kill-server"]) }
        let text = waitFor(60) { $0.contains("Samples ·") && $0.contains("NFE 35") }
        #expect(text.contains("Samples ·"))
        let escapes = tmux(["capture-pane", "-p", "-e", "-t", "studio"])
        #expect(!escapes.contains("38;2;") && !escapes.contains("38;5;"), "colours under NO_COLOR")
        #expect(!escapes.contains("48;2;") && !escapes.contains("48;5;"))
        // Quit, so that no studio outlives the test (kill-server alone left one running here).
        key("q")
        #expect(waitFor(60) { $0.contains("DONE") }.contains("DONE"))
        let exit = try? String(contentsOfFile: "\(dir)/exit", encoding: .utf8)
        #expect(exit?.trimmingCharacters(in: .whitespacesAndNewlines) == "exit=0")
    }
}
