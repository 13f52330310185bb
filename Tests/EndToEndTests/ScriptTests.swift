import Foundation
import Testing

/// The repository's shell scripts stop at the first failure, resolve their paths before changing
/// folder, check their arguments, and `scripts/setup.sh` is safe to source from a user's shell.
@Suite struct ScriptTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func bash(_ script: String, in directory: String, environment: [String: String] = [:])
        -> Binary.Result
    {
        Binary.run(
            ["-c", script], in: directory, environment: environment, executable: "/bin/bash")
    }

    /// Every script run as a program: scripts/*, bench/*.sh and docs/results/*/run.sh (setup.sh is
    /// sourced).
    static var scripts: [String] {
        let fm = FileManager.default
        func files(_ folder: String, _ keep: (String) -> Bool) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: "\(root)/\(folder)")) ?? []).filter(keep).map {
                "\(folder)/\($0)"
            }
        }
        let results = files("docs/results") { _ in true }.flatMap { files($0) { $0 == "run.sh" } }
        return files("scripts") { $0 != "setup.sh" } + files("bench") { $0.hasSuffix(".sh") }
            + results
    }

    @Test func everyScriptStopsAtTheFirstFailure() {
        #expect(Self.scripts.count >= 10, "\(Self.scripts)")
        for script in Self.scripts {
            let text =
                (try? String(contentsOfFile: "\(Self.root)/\(script)", encoding: .utf8)) ?? ""
            #expect(text.contains("\nset -euo pipefail\n"), "\(script) does not set -euo pipefail")
            #expect(
                Self.bash("bash -n '\(script)'", in: Self.root).status == 0,
                "\(script) does not parse")
        }
    }

    /// A pfgm given by a relative path is found after the script changes folder, and its failure is
    /// the script's: no table of empty results, a non-zero exit.
    @Test func aResultScriptExitsNonZeroWhenItsPfgmCallFails() throws {
        let dir = scratchDirectory()
        try FileManager.default.createDirectory(
            atPath: "\(dir)/bin", withIntermediateDirectories: true)
        let fake = "\(dir)/bin/pfgm"
        try "#!/bin/sh\necho called >> '\(dir)/calls'\necho 'pfgm: simulated failure' >&2\nexit 3\n"
            .write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        let script = "\(Self.root)/docs/results/one-network/run.sh"
        let run = Self.bash("'\(script)' out", in: dir, environment: ["PFGM": "bin/pfgm"])
        #expect(run.status != 0, "exit 0 with a failing pfgm: \(run.stdout)")
        #expect(
            exists("\(dir)/calls"),
            "the relative PFGM was not found after the script changed folder: \(run.stderr)")
        #expect(!run.stdout.contains("dedicated"), "\(run.stdout)")

        let usage = Self.bash("'\(script)'", in: dir)
        #expect(usage.status == 2 && usage.stderr.contains("usage"), "\(usage.stderr)")
        let missing = Self.bash("'\(script)' out", in: dir, environment: ["PFGM": "bin/none"])
        #expect(missing.status == 2 && missing.stderr.contains("no pfgm"), "\(missing.stderr)")
        let bench = Self.bash("'\(Self.root)/bench/compare.sh' x", in: dir)
        #expect(
            bench.status == 2 && bench.stderr.contains("rounds must be a whole number"),
            "\(bench.stderr)")
    }

    /// docs/cli.md is the program's own help, word for word.
    @Test func theCommandLineReferenceIsTheProgramsHelp() {
        let check = Self.bash("scripts/cli-reference --check '\(Binary.path)'", in: Self.root)
        #expect(check.status == 0, "\(check.stderr.suffix(3000))")
        let studio =
            (try? String(contentsOfFile: "\(Self.root)/docs/cli.md", encoding: .utf8)) ?? ""
        // The key list wraps at 100 columns, wherever a key falls.
        let keys = studio.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(keys.contains("g probes") && keys.contains("c same noise"), "studio --help's keys")
    }

    /// Sourced from a shell, setup.sh leaves the shell in its folder, and without Swift it returns
    /// an error instead of closing the shell.
    @Test func setupIsSafeToSourceFromAShell() {
        let dir = scratchDirectory()
        let setup = "\(Self.root)/scripts/setup.sh"
        let sourced = Self.bash(
            "source '\(setup)'; echo \"rc=$? pwd=$PWD root=$pfgm_root\"", in: dir)
        #expect(
            sourced.stdout.contains("rc=0 pwd=\(dir) root=\(Self.root)"),
            "\(sourced.stdout) \(sourced.stderr)")
        // `command -v swift` answering "not found" stands for a machine without Swift.
        let noSwift = Self.bash(
            "command() { return 1; }; source '\(setup)'; echo \"still here rc=$?\"", in: dir)
        #expect(noSwift.stdout.contains("still here rc=1"), "\(noSwift.stdout) \(noSwift.stderr)")
        #expect(noSwift.stderr.contains("Swift toolchain"), "\(noSwift.stderr)")
    }
}
