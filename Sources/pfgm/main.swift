import ArgumentParser
import Engine
import Foundation
import TUI

struct PFGM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pfgm",
        abstract: "PFGM++ Studio: train, sample and explore PFGM++ generative models on a CPU.",
        version:
            """
            pfgm \(Machine.version) (\(Machine.summary); \(Machine.blasConfig); \
            \(TerminalInfo.libraryVersion))
            """,
        subcommands: [
            Studio.self, Train.self, Sample.self, Prior.self, Eval.self, Sweep.self, Bench.self,
            Denoise.self, DataCommand.self, Fit.self,
        ],
        defaultSubcommand: Studio.self
    )
}

/// Parses and runs; every failure is one line on stderr and a non-zero exit.
func main() -> Never {
    if let problem = CPU.selectionProblem {
        writeStandardError("pfgm: \(problem)\n")
        exit(2)
    }
    do {
        var command = try PFGM.parseAsRoot()
        try command.run()
        exit(0)
    } catch {
        let code = PFGM.exitCode(for: error)
        if code == .success { PFGM.exit(withError: error) }
        let message =
            PFGM.message(for: error).split(separator: "\n").first.map(String.init) ?? "failed"
        let trimmed = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
        writeStandardError("pfgm: \(trimmed)\n")
        // Usage errors exit 2, as shells and most tools do; other failures 1.
        exit(code == .validationFailure ? 2 : code.rawValue)
    }
}

main()
