import Engine
import Foundation
import Testing

/// The memorisation figure: the oracle memorises, held-out data sits at its floor.
@Suite struct MemorisationTests {
    /// The oracle over the first 500 training points returns training points: nearly every sample
    /// is closer to one than held-out data's median. Held-out rows the figure did not use sit at
    /// the floor, and the floor at 0.5: each share is a binomial proportion over 1,000 rows
    /// (standard deviation 0.016), so 4 deviations of their difference is 0.09.
    @Test func theOracleMemorisesAndHeldOutDataSitsAtTheFloor() throws {
        let data = try Dataset.load("moons", trainCount: 5000, heldOutCount: 3000)
        let oracle = OracleDenoiser(
            points: data.train.rows(0..<500), augmentedDimension: .finite(16))
        let request = SamplingRequest(
            denoiser: oracle, augmentedDimension: .finite(16),
            sampler: Sampler(schedule: NoiseSchedule(steps: 12), solver: .heun, alpha: 0))
        let memorised = request.run(count: 200, seed: 3) ?? Matrix(rows: 0, cols: 2)
        let m = Memorisation.measure(memorised, training: data.train, heldOut: data.heldOut)
        #expect(m.share > 0.95, "oracle share \(m.share)")
        #expect(abs(m.floor - 0.5) < 0.07 && m.threshold > 0)
        let fresh = data.heldOut.rows(2000..<3000)
        let h = Memorisation.measure(fresh, training: data.train, heldOut: data.heldOut)
        #expect(abs(h.share - h.floor) < 0.09, "held-out share \(h.share), floor \(h.floor)")
        // The training points themselves are at distance 0.
        let own = Memorisation.measure(
            data.train.rows(0..<300), training: data.train, heldOut: data.heldOut)
        #expect(own.share == 1)
    }
}
