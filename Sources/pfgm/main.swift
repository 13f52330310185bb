import ArgumentParser
import Engine
import Foundation
import TUI

struct PFGM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pfgm",
        abstract: "PFGM++ Studio: train, sample and explore PFGM++ generative models on a CPU.",
        version: "pfgm 0.1.0 (\(Machine.blasConfig); \(TerminalInfo.libraryVersion))",
        subcommands: [Train.self, Sample.self, Prior.self, Eval.self, Bench.self]
    )
}

PFGM.main()
