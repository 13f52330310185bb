import Engine
import Testing

/// The probes feature without the engine: queueing, caching, pacing and the status line.
@Suite struct ProbeQueueTests {
    /// A model of the bank (a network, so its weights have bits) or, named "oracle", the oracle.
    func model(_ name: String, step: Int, built: @escaping () -> Void = {}) -> ProbeModel {
        ProbeModel(
            key: "\(name)@\(step)", label: name, augmentedDimension: .finite(8), step: step,
            truncation: nil
        ) {
            built()
            guard name != "oracle" else { return GaussianDenoiser(dim: 2, sigmaData: 0.5) }
            let net = MLPEDM(config: MLPEDMConfig(dim: 2, width: 8, depth: 1), seed: 1)
            return NetworkDenoiser(network: net, sigmaData: 0.5)
        }
    }

    @Test func measuresEachModelOncePointByPointAndCachesTheCurve() {
        var queue = ProbeQueue()
        queue.open([model("a", step: 1), model("b", step: 1)], metric: .swd, count: 10, now: 0)
        #expect(queue.isDue(now: 0) && queue.view?.curves.map(\.label) == ["a", "b"])
        #expect(
            queue.view?.status == "a, step 1: point 1 of \(ProbePoint.grid.count) · 1 more model")
        for i in 0..<ProbePoint.grid.count {
            #expect(queue.next?.job.curve.label == "a" && queue.next?.job.next == i)
            queue.record(Double(i), floor: 0.5, now: 10, pause: 2)
        }
        #expect(!queue.isDue(now: 11) && queue.isDue(now: 12), "the pause paces the next point")
        #expect(queue.view?.curves.first?.isComplete == true && queue.view?.floor == 0.5)
        #expect(queue.next?.job.curve.label == "b")
        // Reopened (D moved back): the finished curve comes from the cache; its model is not built.
        var builtAgain = false
        queue.open(
            [model("a", step: 1) { builtAgain = true }, model("b", step: 1)], metric: .swd,
            count: 10, now: 20)
        #expect(!builtAgain && queue.view?.curves.first?.isComplete == true)
        #expect(queue.jobs.map(\.curve.label) == ["b"])
        // A model at a new step is a new curve.
        queue.open([model("a", step: 2)], metric: .swd, count: 10, now: 30)
        #expect(queue.jobs.map(\.curve.label) == ["a"] && queue.view?.curves.first?.step == 2)
        queue.close()
        #expect(!queue.isOpen && queue.view == nil && !queue.isDue(now: 100))
    }

    /// A value that is not finite leaves its entry empty; the oracle has no bits curve.
    @Test func emptyValuesAndTheOraclesBits() {
        var queue = ProbeQueue()
        queue.open([model("oracle", step: 0)], metric: .swd, count: 10, now: 0)
        for _ in ProbePoint.grid { queue.record(1, floor: nil, now: 0, pause: 0) }
        let curve = queue.view?.curves.first
        #expect(curve?.alpha.allSatisfy { $0 == 1 } == true)
        #expect(
            curve?.bits.dropFirst().allSatisfy { $0 == nil } == true, "\(String(describing: curve))"
        )
        #expect(curve?.bits.first == 1, "32 bits is the base point")
    }
}
