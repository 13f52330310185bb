import Foundation
import Testing

/// The README's command lines use only flags the program has.
@Suite struct ReadmeTests {
    static let readme =
        (try? String(contentsOfFile: ScriptTests.root + "/README.md", encoding: .utf8)) ?? ""

    /// (subcommand, flags) for every `pfgm SUB …` line of the README's shell blocks, continuation
    /// lines included.
    static var commandLines: [(String, Set<String>)] {
        var out: [(String, Set<String>)] = []
        var inBlock = false
        var continuing = false
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        {
            if line.hasPrefix("```") {
                inBlock = line == "```sh"
                continue
            }
            guard inBlock else { continue }
            let code = line.components(separatedBy: "#").first ?? ""
            let flags = Set(
                code.split(whereSeparator: { " [|]=".contains($0) }).map(String.init).filter {
                    $0.hasPrefix("--")
                })
            let words = code.split(separator: " ").map(String.init)
            if let at = words.firstIndex(of: "pfgm"), at + 1 < words.count,
                !words[at + 1].hasPrefix("-")
            {
                out.append((words[at + 1], flags))
                continuing = true
            } else if code.hasPrefix("   "), continuing, let last = out.popLast() {
                out.append((last.0, last.1.union(flags)))
            } else {
                continuing = false  // another program's line, and its continuations
            }
        }
        return out
    }

    @Test func everyFlagInTheReadmeIsTheProgramsOwn() {
        let lines = Self.commandLines
        #expect(lines.count >= 15, "README command lines found: \(lines.map(\.0))")
        for (sub, flags) in lines {
            let help = Binary.run([sub, "--help"], in: ScriptTests.root)
            #expect(help.status == 0, "pfgm \(sub) --help failed: \(help.stderr)")
            for flag in flags {
                let name = flag.hasPrefix("--no-") ? "--" + flag.dropFirst(5) : flag
                #expect(
                    help.stdout.contains(name),
                    "README: pfgm \(sub) \(flag) is not a flag of pfgm \(sub)")
            }
        }
    }
}
