import Foundation

/// The one network: a model over a range of D that answers at every D of the slider, trained, saved
/// and loaded beside the bank of dedicated models.
extension StudioEngine {
    /// The range a new one network covers: the whole slider.
    var sliderRange: AugmentedDimensionRange? {
        let top = snapshot.ladder.compactMap { $0.isInfinite ? nil : $0.value }.max() ?? 4096
        return AugmentedDimensionRange(lower: 1, upper: max(4096, top), includesInfinity: true)
    }

    /// Trains the one network, creating it (over the whole slider) when there is none.
    func startOneNetwork() {
        if oneNetwork == nil {
            guard let range = sliderRange,
                let slot = makeSlot(.range(range), in: oneNetworkDirectory, name: "the one network")
            else { return }
            oneNetwork = slot
        }
        let own = oneNetwork.map { OneNetworkDraws($0.trainer.config) } ?? OneNetworkDraws()
        let drawn = own.phrase(includesInfinity: true).map { ", drawing \($0)" } ?? ""
        beginTraining(
            nil, oneNetwork: true,
            message: """
                training the one network for every D\(drawn) (← → show it at any D; m: the \
                D's own model)
                """)
        if draws.normalized != nil, own.normalized != draws.normalized {
            say(
                """
                the one network in \(oneNetworkDirectory.path) keeps the draws it was trained \
                with; move it away to train one with the draws given
                """, .problem)
        }
        if oneNetworkAnswering(at: settings.augmentedDimension) != nil { preview.ask() }
    }

    /// An opened one-network run, else this data set's in the runs folder.
    var oneNetworkDirectory: RunDirectory {
        if let run = opened.first(where: {
            (try? $0.readConfig())?.conditionsOnAugmentedDimension == true
        }) {
            return run
        }
        return RunDirectory("\(runsFolder)/\(dataset.shortName)-one")
    }

    @discardableResult
    func saveOneNetwork() -> Bool {
        guard let one = oneNetwork else {
            say("nothing to save: no one network")
            return false
        }
        return save(one, "the one network")
    }

    /// Loads the opened or saved one network; true when one was loaded.
    func loadOneNetwork() -> Bool {
        let run = oneNetworkDirectory
        let isOpened = opened.contains { $0.path == run.path }
        guard run.exists, let config = try? run.readConfig(), config.conditionsOnAugmentedDimension,
            DataLocation.same(config.data, dataset.name) || isOpened
        else { return false }
        guard let slot = loadSlot(run, name: "the one network") else { return false }
        oneNetwork = slot
        // Opened with --ckpt, it is what space trains.
        if isOpened { snapshot.trainingOneNetwork = true }
        return true
    }
}
