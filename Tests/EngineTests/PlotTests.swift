import Engine
import Foundation
import Testing

/// Plot axes read as a person writes them: round steps, labels without noise digits.
@Suite struct PlotTests {
    @Test(arguments: [
        (0.13, 0.87), (5.53, 19.2), (0.0004, 0.0031), (-2.5, 7.1), (180, 203.7), (1, 1.0004),
    ])
    func ticksAreRoundStepsCoveringTheRange(lo: Double, hi: Double) {
        let ticks = LinePlot.roundTicks((lo, hi))
        let step = ticks[1] - ticks[0]
        let mantissa = step / pow(10, (log10(step) + 1e-9).rounded(.down))
        #expect([1.0, 2, 5].contains { abs(mantissa - $0) < 1e-6 }, "step \(step)")
        #expect(
            ticks.first! <= lo && ticks.last! >= hi && (4...10).contains(ticks.count - 1),
            "\(ticks)")
        #expect(
            ticks.allSatisfy { abs(($0 / step).rounded() * step - $0) < 1e-9 * max(1, abs($0)) })
    }

    @Test func labelsCarryTheDigitsTheStepNeeds() {
        #expect(
            LinePlot.roundTicks((0.13, 0.87)).map { LinePlot.label($0, step: 0.2) } == [
                "0.0", "0.2", "0.4", "0.6", "0.8", "1.0",
            ])
        #expect(LinePlot.label(15, step: 5) == "15" && LinePlot.label(0.05, step: 0.01) == "0.05")
    }
}
