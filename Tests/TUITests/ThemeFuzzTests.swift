import Foundation
import TUI
import Testing

@Suite struct ThemeFuzzTests {
    @Test func corruptThemeFilesAreRejectedCleanly() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("themes").path
        let valid = Array(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/dark.json")))
        let path = NSTemporaryDirectory() + "fuzz-theme-\(getpid()).json"
        var state: UInt64 = 0x7E3E
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var rejected = 0
        for _ in 0..<1000 {
            var b = valid
            switch next(3) {
            case 0: b = Array(b.prefix(next(b.count)))
            case 1: for _ in 0..<(1 + next(6)) { b[next(b.count)] = UInt8(next(256)) }
            default: b.insert(contentsOf: Array("99999999999".utf8), at: next(b.count))
            }
            try Data(b).write(to: URL(fileURLWithPath: path))
            do {
                let theme = try Theme.load(path)
                #expect(
                    !theme.density.isEmpty && theme.density.allSatisfy { (-1...255).contains($0) })
            } catch {
                rejected += 1
                #expect("\(error)".hasPrefix(path))
            }
        }
        #expect(rejected > 300)
    }
}
