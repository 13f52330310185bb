import Engine
import Foundation
import Testing

/// The sweep's tables and plain statements from synthetic results with a known answer.
@Suite struct SweepReportTests {
    let plan = SweepPlan(
        data: "toy", augDims: ["8", "inf"], seeds: 2, steps: 1, alphas: [0.2], bits: [4],
        nfe: [35, 9], count: 10)

    func result(
        _ d: String, _ seed: Int, alpha: Double = 0, bits: Int = 32, nfe: Int = 35, _ value: Double?
    ) -> SweepResult {
        SweepResult(
            augDim: d, seed: seed, alpha: alpha, bits: bits, nfe: nfe, metric: "swd", value: value,
            seconds: 0)
    }

    @Test func statesWhetherFiniteDBeatsInfinityAndWhoDegradesLess() {
        // D=8: base 1.0/1.2, degrades by 0.1 everywhere; ∞: base 2.0/2.2, degrades by 1.0 (and
        // diverges at NFE 9 once).
        var results: [SweepResult] = []
        for (seed, offset) in [(0, 0.0), (1, 0.2)] {
            results += [
                result("8", seed, 1.0 + offset), result("8", seed, alpha: 0.2, 1.1 + offset),
                result("8", seed, bits: 4, 1.1 + offset), result("8", seed, nfe: 9, 1.1 + offset),
            ]
            results += [
                result("inf", seed, 2.0 + offset), result("inf", seed, alpha: 0.2, 3.0 + offset),
                result("inf", seed, bits: 4, 3.0 + offset),
                result("inf", seed, nfe: 9, seed == 0 ? nil : 3.0 + offset),
            ]
        }
        let report = SweepReport(plan: plan, results: results, metric: "swd", floor: 0.05)
        let findings = report.findings()
        #expect(findings.count == 4)
        #expect(
            findings[0].hasPrefix("Yes: a finite D beats D = ∞")
                && findings[0].contains("1.100 ± 0.1414"))
        #expect(
            findings[1].hasPrefix("Yes") && findings[1].contains("α=0.2: D=8 +0.1000, D=inf +1.000")
        )
        #expect(findings[2].hasPrefix("Yes") && findings[3].contains("diverged"))
        #expect(report.table(.nfe).contains("| inf | 2.100 ± 0.1414 | 3.200 (1 diverged) |"))
        #expect(report.csv().split(separator: "\n").count == 1 + 16)

        // Noise that helps both models is not called a smaller degradation.
        let helped = results.map { r in
            var c = r
            if r.alpha > 0, let v = r.value { c.value = v - 1.5 }
            return c
        }
        let better = SweepReport(plan: plan, results: helped, metric: "swd", floor: nil).findings()
        #expect(better[1].hasPrefix("No degradation under alpha"), "\(better[1])")

        // Swap the roles: now ∞ wins at the base and degrades less.
        let swapped = results.map { r in
            var c = r
            c.augDim = r.augDim == "8" ? "inf" : "8"
            return c
        }
        let other = SweepReport(plan: plan, results: swapped, metric: "swd", floor: nil).findings()
        #expect(other[0].hasPrefix("No") && other[1].hasPrefix("No") && other[2].hasPrefix("No"))
    }

    @Test func planListsEachSettingOnceAndRejectsEvenNFE() {
        #expect(plan.points.count == 4)
        #expect(plan.baseNFE == 35 && plan.points.contains(SweepPoint(alpha: 0, bits: 32, nfe: 9)))
        var bad = plan
        bad.nfe = [8]
        #expect(bad.problem?.contains("odd") == true)
        bad = plan
        bad.augDims = ["8", "8"]
        #expect(bad.problem != nil)
    }
}
