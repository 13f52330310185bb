/// How much samples sit on the training set: the share of samples whose nearest training point is
/// closer than the median nearest-training-point distance of held-out data. Fresh draws of the
/// data land below that median half the time, so the floor is about 0.5 (measured on held-out rows
/// the median did not use); a model that returns training points, as the oracle does, lands at 1.
public enum Memorisation {
    /// Held-out data's side of the figure: the threshold, and its own share below it.
    public struct Reference: Sendable, Equatable {
        /// The median distance from held-out data to its nearest training point.
        public var threshold: Double
        /// Held-out data's share below it, on rows the median did not use.
        public var floor: Double
    }

    public struct Result: Sendable, Equatable {
        /// The samples' share below the threshold.
        public var share: Double
        public var floor: Double
        public var threshold: Double
    }

    /// Held-out rows used: the first half sets the threshold, the second half measures the floor.
    public static let heldOutRows = 2000

    public static func reference(training: Matrix, heldOut: Matrix) -> Reference {
        let n = min(heldOut.rows, heldOutRows) / 2
        let distances = nearestDistances(heldOut.rows(0..<n), training).sorted()
        let threshold = distances.isEmpty ? 0 : distances[distances.count / 2]
        return Reference(
            threshold: threshold,
            floor: share(of: heldOut.rows(n..<(2 * n)), near: training, below: threshold))
    }

    public static func measure(_ samples: Matrix, training: Matrix, heldOut: Matrix) -> Result {
        let reference = reference(training: training, heldOut: heldOut)
        return Result(
            share: share(of: samples, near: training, below: reference.threshold),
            floor: reference.floor, threshold: reference.threshold)
    }

    /// The share of rows of x whose nearest training point is closer than `threshold`.
    public static func share(of x: Matrix, near training: Matrix, below threshold: Double)
        -> Double
    {
        let distances = nearestDistances(x, training)
        guard !distances.isEmpty else { return .nan }
        return Double(distances.filter { $0 < threshold }.count) / Double(distances.count)
    }

    /// For each row of x, the nearest row of `points` and the squared distance to it.
    public static func nearest(_ x: Matrix, _ points: Matrix) -> [(
        index: Int, squaredDistance: Double
    )] {
        var best = [(index: Int, squaredDistance: Double)](
            repeating: (-1, .infinity), count: x.rows)
        MMD.pairwiseSquaredDistances(x, points) { i, j, d2 in
            if Double(d2) < best[i].squaredDistance { best[i] = (j, Double(d2)) }
        }
        return best
    }

    /// For each row of x, the distance to the nearest row of `points`.
    public static func nearestDistances(_ x: Matrix, _ points: Matrix) -> [Double] {
        nearest(x, points).map { $0.squaredDistance.squareRoot() }
    }
}
