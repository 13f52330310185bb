import Engine
import Foundation
import Testing

/// stats.jsonl: one type writes and reads every line, whoever trains (pfgm, the sweep, the studio,
/// tools/torch).
@Suite struct StatsTests {
    @Test func linesRoundTripWithWholeNumbersAsIntegers() throws {
        let line = StatsLine(step: 150, loss: 0.25, stepsPerSecond: 40, elapsedSeconds: 3.5)
        let text = String(decoding: line.encoded, as: UTF8.self)
        #expect(text.hasSuffix("}\n") && text.contains("\"step\":150"), "\(text)")
        #expect(text.contains("\"steps_per_s\":40") && text.contains("\"elapsed_s\":3.5"))
        #expect(StatsLine(parsing: text.dropLast()) == line)
    }

    /// Lines as tools/torch writes them (spaces, key order, extra fields) read the same; torn
    /// lines, lines without a loss, and non-finite losses do not count.
    @Test func readersSkipWhatIsNotALoss() {
        let python = #"{"step": 50, "loss": 0.5, "steps_per_s": 12.0, "elapsed_s": 4.2, "x": 1}"#
        #expect(StatsLine(parsing: python)?.step == 50)
        #expect(StatsLine(parsing: python)?.stepsPerSecond == 12)
        for bad in [#"{"step": 12, "lo"#, #"{"step": 12}"#, #"{"step": 1, "loss": NaN}"#, ""] {
            #expect(StatsLine(parsing: bad) == nil, "\(bad)")
        }
        let diverged = StatsLine(step: 7, loss: .nan).encoded
        #expect(
            (try? JSONSerialization.jsonObject(with: Data(diverged))) != nil,
            "a NaN loss still writes a JSON line")
        #expect(StatsLine(parsing: String(decoding: diverged, as: UTF8.self)) == nil)
    }

    /// The window's mean and rate: over the wall time given, else over the steps' own seconds.
    @Test func windowsCloseIntoLines() {
        var window = StatsWindow()
        for loss: Float in [1, 2, 3, 6] { window.add(loss, seconds: 0.5) }
        let line = window.close(step: 40, elapsed: 9)
        #expect(line == StatsLine(step: 40, loss: 3, stepsPerSecond: 2, elapsedSeconds: 9))
        #expect(window.steps == 0 && window.lossSum == 0 && window.seconds == 0)
        window.add(4)
        #expect(window.close(step: 41, wall: 0.25, elapsed: 10).stepsPerSecond == 4)
    }

    /// A history rebuilt from lines gives each window's mean to every step of it.
    @Test func historyExtendsEveryStepOfAWindow() {
        var history = LossHistory()
        var step = history.extend(with: StatsLine(step: 3, loss: 2), after: 0)
        step = history.extend(with: StatsLine(step: 2, loss: 9), after: step)
        step = history.extend(with: StatsLine(step: 5, loss: 1), after: step)
        #expect(step == 5 && history.buckets == [2, 2, 2, 1, 1])
    }
}
