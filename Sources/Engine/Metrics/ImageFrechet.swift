import Foundation

/// `fd-fmnist`: the Fréchet distance between samples and the held-out test images in the feature
/// space of an `ImageClassifier` trained on the training images (seeded, cached on disk). Samples
/// are clipped to [−1, 1] first, as saving them as images would. It comes with a floor (as many
/// training images as samples) and a ceiling (as many noise images, N(0, 1) clipped to [−1, 1]),
/// both against the same test statistics.
public struct ImageFrechet {
    public let classifier: ImageClassifier
    public let testAccuracy: Double
    public let reference: FrechetDistance.Statistics
    let data: Dataset
    public static let seed: UInt64 = 0xFD

    /// Loads the data set's classifier from `cacheDirectory`, or trains and stores it there.
    /// `shouldStop` ends the training at its next batch, and then nothing is stored.
    public static func prepare(
        for data: Dataset, cacheDirectory: String?, log: (String) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws(DataError) -> ImageFrechet {
        guard let labels = data.labels, let testLabels = data.heldOutLabels, data.imageSide != nil
        else {
            throw DataError(
                "fd needs labelled images (fmnist, fmnist14, fmnist7); \(data.name) has no labels")
        }
        let classes = (labels.max() ?? 0) + 1
        let path = cacheDirectory.map {
            "\($0)/fd-classifier-\(data.shortName)-v\(ImageClassifier.version).safetensors"
        }
        if let path, let cached = load(path, data: data, classes: classes, testLabels: testLabels) {
            return ImageFrechet(
                classifier: cached.0, testAccuracy: cached.1, reference: reference(cached.0, data),
                data: data)
        }
        log(
            """
            training the fd-fmnist classifier on \(data.train.rows) \(data.name) images (once; \
            cached)
            """
        )
        let net = ImageClassifier.train(
            images: data.train, labels: labels, classes: classes, seed: seed,
            shouldStop: shouldStop
        ) { e, total, loss in
            log(String(format: "  epoch %d/%d  loss %.4f", e, total, loss))
        }
        if shouldStop() { throw DataError("the fd-fmnist classifier's training was stopped") }
        let accuracy = net.accuracy(data.heldOut, labels: testLabels)
        log(String(format: "  test accuracy %.4f", accuracy))
        if let path, let dir = cacheDirectory {
            do {
                try FileManager.default.createDirectory(
                    atPath: dir, withIntermediateDirectories: true)
                let meta = [
                    "data": data.name, "accuracy": String(accuracy),
                    "version": String(ImageClassifier.version),
                ]
                try SafeTensors.write(
                    SafeTensors.File(tensors: net.parameters.tensors(), metadata: meta), to: path)
            } catch { log("note: could not cache the classifier at \(path): \(error)") }
        }
        return ImageFrechet(
            classifier: net, testAccuracy: accuracy, reference: reference(net, data), data: data)
    }

    /// A cached classifier whose recomputed test accuracy matches the one stored with it; nil
    /// otherwise.
    static func load(_ path: String, data: Dataset, classes: Int, testLabels: [Int]) -> (
        ImageClassifier, Double
    )? {
        guard FileManager.default.fileExists(atPath: path), let file = try? SafeTensors.read(path),
            let stored = file.metadata["accuracy"].flatMap(Double.init),
            file.metadata["data"] == data.name
        else { return nil }
        let net = ImageClassifier(inputs: data.dim, classes: classes, seed: seed)
        guard (try? net.parameters.load(file.tensors)) != nil, net.parameters.isFinite else {
            return nil
        }
        let accuracy = net.accuracy(data.heldOut, labels: testLabels)
        return abs(accuracy - stored) < 1e-9 ? (net, accuracy) : nil
    }

    static func reference(_ net: ImageClassifier, _ data: Dataset) -> FrechetDistance.Statistics {
        FrechetDistance.statistics(net.features(data.heldOut))
    }

    /// FD of `images` (clipped to [−1, 1]) against the test images; nil for non-finite input.
    public func distance(_ images: Matrix) -> Double? {
        guard images.cols == data.dim, images.rows >= 2 else { return nil }
        let clipped = Matrix(
            rows: images.rows, cols: images.cols,
            storage: images.storage.map { min(max($0, -1), 1) })
        return FrechetDistance.distance(
            FrechetDistance.statistics(classifier.features(clipped)), reference)
    }

    /// The share of `images` the classifier puts in each class, by class name where known.
    public func classShares(_ images: Matrix) -> [(String, Double)] {
        var counts = [Int](repeating: 0, count: classifier.classes)
        for label in classifier.predict(images) { counts[label] += 1 }
        let names =
            FashionMNIST.names[data.name] != nil
            ? FashionMNIST.classes : (0..<classifier.classes).map { "class \($0)" }
        return counts.indices.map { (names[$0], Double(counts[$0]) / Double(max(images.rows, 1))) }
    }

    /// FD of `count` training images: what a perfect sampler would score at this sample size.
    public func floor(count: Int) -> Double? { distance(data.draw(count: count, seed: 101)) }

    /// FD of `count` noise images: what a sampler that learned nothing scores.
    public func ceiling(count: Int) -> Double? {
        var rng = RandomSource(seed: 103, stream: 0xFD)
        var noise = Matrix(rows: count, cols: data.dim)
        noise.storage.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
        return distance(noise)
    }
}

/// Where the project keeps what it can rebuild: `PFGM_CACHE_DIR`, else `$XDG_CACHE_HOME/pfgm`, else
/// `~/.cache/pfgm`.
public enum CacheDirectory {
    public static var path: String? {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["PFGM_CACHE_DIR"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/pfgm" }
        if let home = env["HOME"], !home.isEmpty { return home + "/.cache/pfgm" }
        return nil
    }
}
