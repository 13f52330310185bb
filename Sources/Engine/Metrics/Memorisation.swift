/// How much samples sit on the training set: the share of samples whose nearest training point is
/// closer than the median nearest-training-point distance of held-out data. Fresh draws of the
/// data land below that median half the time, so the floor is about 0.5 (measured on held-out rows
/// the median did not use); a model that returns training points, as the oracle does, lands at 1.
public enum Memorisation {
    public struct Result: Sendable, Equatable {
        /// The samples' share below the threshold.
        public var share: Double
        /// Held-out data's share below it.
        public var floor: Double
        /// The median distance from held-out data to its nearest training point.
        public var threshold: Double
    }

    /// Held-out rows used: the first half sets the threshold, the second half measures the floor.
    public static let heldOutRows = 2000

    public static func measure(_ samples: Matrix, training: Matrix, heldOut: Matrix) -> Result {
        let n = min(heldOut.rows, heldOutRows) / 2
        let reference = nearestDistances(heldOut.rows(0..<n), training).sorted()
        let threshold = reference.isEmpty ? 0 : reference[reference.count / 2]
        return Result(
            share: share(of: nearestDistances(samples, training), below: threshold),
            floor: share(
                of: nearestDistances(heldOut.rows(n..<(2 * n)), training), below: threshold),
            threshold: threshold)
    }

    /// For each row of x, the nearest row of `points` and its distance.
    public static func nearest(_ x: Matrix, _ points: Matrix) -> [(index: Int, distance: Double)] {
        var best = [(index: Int, distance: Double)](repeating: (-1, .infinity), count: x.rows)
        MMD.pairwiseSquaredDistances(x, points) { i, j, d2 in
            if Double(d2) < best[i].distance { best[i] = (j, Double(d2)) }
        }
        return best.map { ($0.index, $0.distance.squareRoot()) }
    }

    /// For each row of x, the distance to the nearest row of `points`.
    public static func nearestDistances(_ x: Matrix, _ points: Matrix) -> [Double] {
        PosteriorFit.nearestSquaredDistances(x, points).map { $0.squareRoot() }
    }

    public static func share(of distances: [Double], below threshold: Double) -> Double {
        guard !distances.isEmpty else { return .nan }
        return Double(distances.filter { $0 < threshold }.count) / Double(distances.count)
    }
}
