/// The nearest-images view (`k`): each preview image beside its nearest training image (L2), over
/// the first `nearestTrainingRows` training images.
extension StudioEngine {
    public static let nearestTrainingRows = 10_000

    func setNearest(open: Bool) {
        showsNearest = open
        snapshot.nearest = nil
        if open { findNearest() }
    }

    /// Pairs the shown preview's images with their nearest training images (the threshold is
    /// measured once).
    func findNearest() {
        guard showsNearest, snapshot.kind.isImage, let preview = snapshot.preview else { return }
        let training = dataset.train.rows(0..<min(Self.nearestTrainingRows, dataset.train.rows))
        let threshold =
            nearestThreshold
            ?? Memorisation.measure(
                Matrix(rows: 0, cols: dataset.dim), training: training, heldOut: dataset.heldOut
            ).threshold
        nearestThreshold = threshold
        let found = Memorisation.nearest(preview.points, training)
        let rows = found.flatMap { training.row(max(0, $0.index)) }
        snapshot.nearest = NearestImages(
            samples: preview.points,
            neighbours: Matrix(rows: found.count, cols: dataset.dim, storage: rows),
            distances: found.map(\.distance), threshold: threshold)
    }
}
