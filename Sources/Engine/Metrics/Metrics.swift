import Foundation

/// Sliced Wasserstein distance SW₂: the root mean, over fixed seeded unit directions, of the
/// squared 1-D Wasserstein-2 distance between the projected sets (quantiles matched at (q + ½)/Q, Q
/// = max sizes).
public enum SlicedWasserstein {
    public static func distance(
        _ a: Matrix, _ b: Matrix, projections: Int = 256, seed: UInt64 = 0x5_3D
    ) -> Double {
        precondition(
            a.cols == b.cols && a.rows > 0 && b.rows > 0,
            "SWD needs two non-empty sets of equal width")
        let n = a.cols
        var rng = RandomSource(seed: seed)
        var directions = Matrix(rows: projections, cols: n)
        for p in 0..<projections {
            var row = (0..<n).map { _ in rng.normal() }
            let norm = max(row.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            row = row.map { $0 / norm }
            for c in 0..<n { directions[p, c] = Float(row[c]) }
        }
        var pa = Matrix(rows: a.rows, cols: projections)
        var pb = Matrix(rows: b.rows, cols: projections)
        BLAS.gemm(a, directions, transposeB: true, into: &pa)
        BLAS.gemm(b, directions, transposeB: true, into: &pb)
        let pat = pa.transposed()
        let pbt = pb.transposed()
        let q = max(a.rows, b.rows)
        var total = 0.0
        for p in 0..<projections {
            let sa = pat.row(p).sorted()
            let sb = pbt.row(p).sorted()
            var s = 0.0
            for i in 0..<q {
                let u = (Double(i) + 0.5) / Double(q)
                let d =
                    Double(sa[Int(u * Double(sa.count))]) - Double(sb[Int(u * Double(sb.count))])
                s += d * d
            }
            total += s / Double(q)
        }
        return (total / Double(projections)).squareRoot()
    }
}

/// Maximum mean discrepancy with a sum of RBF kernels k(x, y) = Σ_h exp(−‖x − y‖²/2h²), reported as
/// the unbiased estimate of MMD² (diagonal terms left out), signed: `pfgm eval` and the studio show
/// the same figure.
public enum MMD {
    /// Bandwidths {¼, ½, 1, 2, 4}× the median pairwise distance of (up to 1000 points of) the
    /// reference set.
    public static func bandwidths(for reference: Matrix) -> [Double] {
        let m = min(reference.rows, 1000)
        let sub = reference.rows(0..<m)
        var d2 = [Float]()
        pairwiseSquaredDistances(sub, sub) { i, j, v in if i < j { d2.append(v) } }
        let median = d2.isEmpty ? 1 : Double(d2.sorted()[d2.count / 2]).squareRoot()
        return [0.25, 0.5, 1, 2, 4].map { $0 * max(median, 1e-6) }
    }

    /// The unbiased estimate of MMD², signed: below 0 when the sets are closer than two draws of
    /// one law usually are. `progress` sees the fraction done, from one thread at a time.
    public static func squaredDistance(
        _ x: Matrix, _ y: Matrix, bandwidths: [Double], progress: (Double) -> Void = { _ in }
    ) -> Double {
        precondition(
            x.cols == y.cols && x.rows > 1 && y.rows > 1,
            "MMD needs two sets of at least 2 points of equal width")
        let total = Double(x.rows * x.rows + y.rows * y.rows + x.rows * y.rows)
        var done = 0.0
        func mean(_ a: Matrix, _ b: Matrix, excludeDiagonal: Bool) -> Double {
            let pairs = Double(a.rows * b.rows)
            defer { done += pairs }
            return kernelMean(a, b, bandwidths, excludeDiagonal: excludeDiagonal) {
                progress((done + $0 * pairs) / total)
            }
        }
        let xx = mean(x, x, excludeDiagonal: true)
        let yy = mean(y, y, excludeDiagonal: true)
        let xy = mean(x, y, excludeDiagonal: false)
        return xx + yy - 2 * xy
    }

    /// The mean kernel value over pairs, with the rows of `a` cut into one range per thread.
    static func kernelMean(
        _ a: Matrix, _ b: Matrix, _ h: [Double], excludeDiagonal: Bool,
        progress: (Double) -> Void = { _ in }
    ) -> Double {
        let inverse = h.map { 1 / (2 * $0 * $0) }
        let parts = Compute.parts(rows: a.rows, minRows: 256)
        var sums = [Double](repeating: 0, count: parts)
        sums.withUnsafeMutableBufferPointer { partial in
            Compute.run(parts: parts) { k in
                let range = Compute.range(part: k, of: parts, count: a.rows)
                var sum = 0.0
                pairwiseSquaredDistances(
                    a, b, rows: range, progress: { if k == 0 { progress($0) } }
                ) { i, j, d2 in
                    if excludeDiagonal && i == j { return }
                    for c in inverse { sum += exp(-Double(d2) * c) }
                }
                partial[k] = sum
            }
        }
        let pairs = excludeDiagonal ? Double(a.rows * (a.rows - 1)) : Double(a.rows * b.rows)
        return sums.reduce(0, +) / pairs
    }

    /// Calls `body(i, j, ‖a_i − b_j‖²)` for every pair with i in `rows` (all rows of a by default),
    /// in blocks of rows through sgemm; `progress` sees the share of `rows` done.
    static func pairwiseSquaredDistances(
        _ a: Matrix, _ b: Matrix, rows: Range<Int>? = nil,
        progress: (Double) -> Void = { _ in }, _ body: (Int, Int, Float) -> Void
    ) {
        let range = rows ?? 0..<a.rows
        var nb = [Float](repeating: 0, count: b.rows)
        b.storage.withUnsafeBufferPointer { p in
            if let base = p.baseAddress {
                Kernels.rowSquaredNorms(base, rows: b.rows, cols: b.cols, into: &nb)
            }
        }
        let block = 256
        for start in stride(from: range.lowerBound, to: range.upperBound, by: block) {
            let rows = a.rows(start..<min(start + block, range.upperBound))
            var dots = Matrix(rows: rows.rows, cols: b.rows)
            BLAS.gemm(rows, b, transposeB: true, into: &dots)
            for i in 0..<rows.rows {
                var na: Float = 0
                for c in 0..<a.cols { na += rows[i, c] * rows[i, c] }
                for j in 0..<b.rows { body(start + i, j, max(0, na + nb[j] - 2 * dots[i, j])) }
            }
            progress(Double(start + rows.rows - range.lowerBound) / Double(max(range.count, 1)))
        }
    }
}

/// Metrics of samples against a data set, each with its floor: the same metric between two
/// independent draws of the data of the samples' size.
public enum Evaluation {
    public static let knownMetrics = ["swd", "mmd", "fd", "memorisation"]
    /// MMD is quadratic in the samples: it uses the first this many.
    public static let mmdLimit = 5000

    /// `fd` (fd-fmnist, images only) trains its classifier on first use and keeps it in
    /// `cacheDirectory`.
    public static func evaluate(
        _ samples: Matrix, against data: Dataset, metrics: [String],
        cacheDirectory: String? = CacheDirectory.path, log: (String) -> Void = { _ in },
        progress: (String, Double) -> Void = { _, _ in }
    ) throws(DataError) -> [(String, Double)] {
        guard samples.cols == data.dim else {
            throw DataError(
                "samples have \(samples.cols) coordinates, \(data.name) has \(data.dim)")
        }
        guard samples.rows >= 2 else {
            throw DataError("need at least 2 samples, found \(samples.rows)")
        }
        guard samples.storage.allSatisfy({ $0.isFinite }) else {
            throw DataError("samples contain NaN or infinite values")
        }
        let k = samples.rows
        let reference =
            k <= data.heldOut.rows ? data.heldOut.rows(0..<k) : data.draw(count: k, seed: 100)
        let floorA = data.draw(count: k, seed: 101)
        let floorB = data.draw(count: k, seed: 102)
        var out: [(String, Double)] = [("count", Double(k))]
        for metric in metrics {
            switch metric {
            case "swd":
                out.append(("swd", SlicedWasserstein.distance(samples, reference)))
                out.append(("swd_floor", SlicedWasserstein.distance(floorA, floorB)))
            case "mmd":
                let m = min(k, mmdLimit)
                let h = MMD.bandwidths(for: reference)
                let mmd2 = MMD.squaredDistance(
                    samples.rows(0..<m), reference.rows(0..<m), bandwidths: h
                ) { progress("mmd", $0) }
                let floor = MMD.squaredDistance(
                    floorA.rows(0..<m), floorB.rows(0..<m), bandwidths: h
                ) { progress("mmd floor", $0) }
                out += [("mmd2", mmd2), ("mmd2_floor", floor)]
                out.append(("mmd_count", Double(m)))
            case "fd":
                out += try frechet(samples, data, cacheDirectory: cacheDirectory, log: log)
            case "memorisation":
                progress("memorisation", 0)
                let m = Memorisation.measure(samples, training: data.train, heldOut: data.heldOut)
                out += [
                    ("memorisation", m.share), ("memorisation_floor", m.floor),
                    ("memorisation_threshold", m.threshold),
                ]
            default:
                throw DataError(
                    "unknown metric '\(metric)'; known: \(knownMetrics.joined(separator: ", "))")
            }
        }
        return out
    }

    static func frechet(
        _ samples: Matrix, _ data: Dataset, cacheDirectory: String?,
        log: (String) -> Void
    ) throws(DataError) -> [(String, Double)] {
        let fd = try ImageFrechet.prepare(for: data, cacheDirectory: cacheDirectory, log: log)
        if samples.rows < 2000 {
            log(
                """
                note: fd-fmnist on \(samples.rows) samples (< 2000) is biased upward; compare with \
                its floor
                """
            )
        }
        log(
            "classes of the samples, by the classifier: "
                + fd.classShares(samples).map { name, share in
                    "\(name) \(Int((share * 100).rounded()))%"
                }.joined(separator: ", "))
        guard let value = fd.distance(samples), let floor = fd.floor(count: samples.rows),
            let ceiling = fd.ceiling(count: samples.rows)
        else { throw DataError("fd-fmnist: eigensolver failed") }
        return [
            ("fd_fmnist", value), ("fd_fmnist_floor", floor), ("fd_fmnist_ceiling", ceiling),
            ("fd_fmnist_classifier_accuracy", fd.testAccuracy),
        ]
    }
}
