/// The nearest-images view (`k`): each preview image beside its nearest training image (L2), over
/// the first `nearestTrainingRows` training images.
extension StudioEngine {
    public static let nearestTrainingRows = 10_000

    func setNearest(open: Bool) {
        showsNearest = open
        snapshot.nearest = nil
        if open { findNearest() }
    }

    /// Pairs the shown preview's images with their nearest training images (the training rows and
    /// the threshold are taken once).
    func findNearest() {
        guard showsNearest, snapshot.kind.isImage, let preview = snapshot.preview else { return }
        let (training, threshold) = nearestTraining ?? Self.nearestTraining(of: dataset)
        nearestTraining = (training, threshold)
        let found = Memorisation.nearest(preview.points, training)
        snapshot.nearest = NearestImages(
            samples: preview.points,
            neighbours: Matrix(
                rows: found.count, cols: dataset.dim,
                storage: found.flatMap { training.row(max(0, $0.index)) }),
            distances: found.map { $0.squaredDistance.squareRoot() }, threshold: threshold)
    }

    static func nearestTraining(of dataset: Dataset) -> (rows: Matrix, threshold: Double) {
        let training = dataset.train.rows(0..<min(nearestTrainingRows, dataset.train.rows))
        return (
            training,
            Memorisation.reference(training: training, heldOut: dataset.heldOut).threshold
        )
    }
}
