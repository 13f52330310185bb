import Engine
import Foundation
import Testing

/// Image metrics in the studio: fd-fmnist of background batches, with the floor and ceiling of
/// `pfgm eval`.
@Suite struct StudioImageMetricsTests {
    /// The studio on fmnist14 at D = 128, previews of 6 steps.
    static let settings = {
        var settings = StudioSettings(augmentedDimension: .finite(128))
        settings.steps = 6
        return settings
    }()

    static func engine(_ data: Dataset) -> StudioEngine {
        StudioEngine(dataset: data, settings: settings, runsFolder: temporaryDirectory())
    }

    @Test func fdFmnistIsShownForFmnist14() throws {
        let data = try Dataset.load("fmnist14")
        let engine = Self.engine(data)
        #expect(engine.latest.imageMetrics == nil, "set when the engine starts")
        engine.start()
        // Preparing the classifier takes a while when it is not cached yet (trained once, then
        // stored).
        #expect(waitUntil(600) { engine.latest.imageMetrics?.rows.isEmpty == false })
        let metrics = try #require(engine.latest.imageMetrics)
        let row = try #require(metrics.rows.first)
        let floor = try #require(metrics.floor)
        let ceiling = try #require(metrics.ceiling)
        #expect(metrics.metric == .frechet && metrics.count == StudioEngine.imageBatchCount)
        #expect(row.augmentedDimension == .finite(128) && row.source == .oracle)
        // The same floor and ceiling `pfgm eval` reports, at the batch's size.
        let frechet = try ImageFrechet.prepare(for: data, cacheDirectory: CacheDirectory.path)
        #expect(
            floor == frechet.floor(count: metrics.count)
                && ceiling == frechet.ceiling(count: metrics.count))
        print("fd-fmnist of the oracle batch \(row.value), floor \(floor), ceiling \(ceiling)")
        #expect(row.value > 0 && row.value < ceiling / 4)
        engine.send(.quit)
        #expect(waitUntil(30) { engine.hasStopped })
    }

    /// The one network's fd-fmnist at a D sits beside the oracle's and the D's own model's: rows
    /// are kept per D and source, and a model's batches finish while it trains (its previews,
    /// whose labels give the step, come faster than its batches).
    @Test func theOneNetworksRowSitsBesideTheDedicatedModels() throws {
        let engine = Self.engine(try Dataset.load("fmnist14"))
        var settings = Self.settings
        engine.start()
        func rows() -> [FrechetRow] { engine.latest.imageMetrics?.rows ?? [] }
        #expect(waitUntil(600) { rows().contains { $0.source == .oracle } })
        engine.send(.trainOneNetwork)
        #expect(waitUntil(600) { rows().contains { $0.source == .oneNetwork && $0.step > 0 } })
        settings.useOneNetwork = false
        engine.send(.apply(settings))
        engine.send(.trainShown)
        #expect(waitUntil(600) { rows().contains { $0.source == .model && $0.step > 0 } })
        let scored = rows()
        #expect(scored.map(\.source) == [.model, .oneNetwork, .oracle], "\(scored)")
        #expect(scored.allSatisfy { $0.augmentedDimension == .finite(128) })
        for row in scored.prefix(2) {
            #expect(row.value.isFinite && row.value > 0, "\(row)")
        }
        engine.send(.quit)
        #expect(waitUntil(30) { engine.hasStopped })
    }
}
