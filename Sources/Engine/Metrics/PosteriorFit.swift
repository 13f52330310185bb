import Foundation

/// How far a trained denoiser is from the exact posterior mean E[y | x] that the oracle computes
/// over its training points, per noise level: training points y perturbed by the kernel at σ
/// (whole, or truncated as in training, the oracle then for that kernel), then e = ‖D_θ(x, σ) −
/// D*(x, σ)‖² per point. Medians describe the bulk; at small D a few per cent of the points lie
/// beyond 10σ, reported apart.
public enum PosteriorFit {
    public struct Level: Sendable, Equatable {
        public var sigma: Double
        public var median: Double
        public var p90: Double
        public var mean: Double
        /// Share of the perturbed points farther than 10σ from their clean point.
        public var farShare: Double
        /// Median error over those far points (nan when there are none).
        public var farMedian: Double
    }

    public static let farRadius = 10.0
    public static let defaultSigmas = [0.02, 0.1, 0.3, 1, 3]

    /// The fit at each σ of `sigmas`, on `count` points drawn (with replacement, seeded) from
    /// `points`.
    public static func measure(
        _ model: Denoiser, points: Matrix, augmentedDimension d: AugmentedDimension,
        truncation: KernelTruncation? = nil, sigmas: [Double] = defaultSigmas,
        count: Int = 2000, seed: UInt64 = 7
    ) -> [Level] {
        let oracle = OracleDenoiser(points: points, augmentedDimension: d, truncation: truncation)
        var rng = RandomSource(seed: seed)
        return sigmas.map { sigma in
            let (x, noise) = perturbed(
                points, augmentedDimension: d, truncation: truncation, sigma: sigma, count: count,
                rng: &rng)
            return level(
                sigma: sigma,
                errors: squaredDistances(
                    model.denoised(x, sigma: sigma), oracle.denoised(x, sigma: sigma)),
                far: squaredNorms(noise).map { $0.squareRoot() > farRadius * sigma })
        }
    }

    /// Which D a model answers like, at one σ.
    public struct Separation: Sendable, Equatable {
        public var sigma: Double
        /// Median ‖D_θ − D*_D‖², the error to its own D's posterior mean.
        public var median: Double
        /// Median ‖D_θ − D*_other‖² on the same points.
        public var medianOther: Double
        /// Median of ⟨D_θ − D*_D, D*_other − D*_D⟩ / ‖D*_other − D*_D‖²: 0 answers as at D, 1 as
        /// at the other D.
        public var lean: Double
        /// Median ‖D*_other − D*_D‖², how far apart the two answers lie.
        public var medianGap: Double

        /// Whether the model's answer lies farther from both posterior means than they lie from
        /// each other: then the lean divides that error by a smaller gap, and says little.
        public var leanIsLost: Bool { min(median, medianOther) >= medianGap }
    }

    /// On points perturbed by the kernel at D (as `measure`), the errors to D's exact posterior
    /// mean and to `other`'s (its kernel cut at the same quantile), and the lean toward `other`.
    /// Per point the lean is ½ + (e_D − e_other)/(2‖D*_other − D*_D‖²): the two errors compared on
    /// the same point, in units of the gap between the two answers. Points where the answers
    /// nearly agree (gap² ≤ 10⁻⁸) carry no lean: it would divide the model's error by almost
    /// nothing.
    public static func separation(
        _ model: Denoiser, points: Matrix, augmentedDimension d: AugmentedDimension,
        from other: AugmentedDimension, kernelQuantile: Double? = nil, sigmas: [Double],
        count: Int = 2000, seed: UInt64 = 7
    ) -> [Separation] {
        let cut = { (at: AugmentedDimension) in
            KernelTruncation.make(
                quantile: kernelQuantile, dim: points.cols, augmentedDimension: at)
        }
        let own = OracleDenoiser(points: points, augmentedDimension: d, truncation: cut(d))
        let theirs = OracleDenoiser(
            points: points, augmentedDimension: other, truncation: cut(other))
        var rng = RandomSource(seed: seed)
        return sigmas.map { sigma in
            let (x, _) = perturbed(
                points, augmentedDimension: d, truncation: own.truncation, sigma: sigma,
                count: count, rng: &rng)
            return separate(x, sigma: sigma, model, own: own, theirs: theirs)
        }
    }

    /// `separation` at the points a sampling run at the request's D passes through (as
    /// `alongTrajectory`, noise injection included), one level per σ_i > 0; the other D's kernel
    /// is cut at `kernelQuantile` as the request's own.
    public static func separationAlongTrajectory(
        _ request: SamplingRequest, points: Matrix, from other: AugmentedDimension,
        kernelQuantile: Double?, count: Int = 500, seed: UInt64 = 7
    ) -> [Separation] {
        let own = OracleDenoiser(
            points: points, augmentedDimension: request.augmentedDimension,
            truncation: request.truncation)
        let theirs = OracleDenoiser(
            points: points, augmentedDimension: other,
            truncation: KernelTruncation.make(
                quantile: kernelQuantile, dim: points.cols, augmentedDimension: other))
        return along(request, count: count, seed: seed) { x, sigma, model in
            separate(x, sigma: sigma, model, own: own, theirs: theirs)
        }
    }

    /// `measure(x_i, σ_i, model)` at the prior's draws and at each σ_i > 0 that `count` sampling
    /// runs of the request reach, with the request's weights quantized once.
    static func along<T>(
        _ request: SamplingRequest, count: Int, seed: UInt64,
        measure: @escaping (Matrix, Double, Denoiser) -> T
    ) -> [T] {
        let model = request.quantized().denoiser
        var rng = RandomSource(seed: seed)
        let prior = request.prior(count: count, rng: &rng)
        var levels = [measure(prior, request.sampler.schedule.sigmaMax, model)]
        _ = request.sample(
            count: count, latents: prior, rng: &rng,
            observe: { xs, sigma in
                if sigma > 0 { levels.append(measure(xs, sigma, model)) }
            })
        return levels
    }

    /// The errors of the model's answers at x to both posterior means, and its lean (see
    /// `separation`).
    static func separate(
        _ x: Matrix, sigma: Double, _ model: Denoiser, own: OracleDenoiser, theirs: OracleDenoiser
    ) -> Separation {
        let answer = model.denoised(x, sigma: sigma)
        let a = own.denoised(x, sigma: sigma)
        let b = theirs.denoised(x, sigma: sigma)
        let gaps = squaredDistances(b, a)
        let leans = (0..<x.rows).filter { gaps[$0] > 1e-8 }.map { r in
            (0..<x.cols).reduce(0.0) { s, c in
                s + (Double(answer[r, c]) - Double(a[r, c])) * (Double(b[r, c]) - Double(a[r, c]))
            } / gaps[r]
        }
        return Separation(
            sigma: sigma, median: quantile(squaredDistances(answer, a), 0.5),
            medianOther: quantile(squaredDistances(answer, b), 0.5), lean: quantile(leans, 0.5),
            medianGap: quantile(gaps, 0.5))
    }

    /// `count` of `points` (drawn with replacement) perturbed by the kernel at D and σ: the points
    /// and the perturbations.
    static func perturbed(
        _ points: Matrix, augmentedDimension d: AugmentedDimension, truncation: KernelTruncation?,
        sigma: Double, count: Int, rng: inout RandomSource
    ) -> (x: Matrix, noise: Matrix) {
        var x = Matrix(rows: count, cols: points.cols)
        for r in 0..<count {
            let k = rng.index(below: points.rows)
            for c in 0..<points.cols { x[r, c] = points[k, c] }
        }
        let noise = Perturbation.prior(
            count: count, dim: points.cols, augmentedDimension: d, sigma: sigma,
            truncation: truncation, rng: &rng)
        for i in 0..<x.count { x.storage[i] += noise.storage[i] }
        return (x, noise)
    }

    /// The fit at the points a sampling run passes through: `count` of the request's prior draws
    /// integrated by its sampler, and at each σ_i > 0 they reach, ‖D_θ(x_i, σ_i) − D*(x_i, σ_i)‖²
    /// (far: beyond 10σ_i from every point), against the oracle for the request's kernel.
    public static func alongTrajectory(
        _ request: SamplingRequest, points: Matrix, count: Int = 500, seed: UInt64 = 7
    ) -> [Level] {
        let oracle = OracleDenoiser(
            points: points, augmentedDimension: request.augmentedDimension,
            truncation: request.truncation)
        return along(request, count: count, seed: seed) { x, sigma, model in
            measureAt(x, sigma: sigma, model, oracle)
        }
    }

    static func measureAt(_ x: Matrix, sigma: Double, _ model: Denoiser, _ oracle: OracleDenoiser)
        -> Level
    {
        let reference = oracle.denoised(x, sigma: sigma)
        let nearest = nearestSquaredDistances(x, oracle.points)
        return level(
            sigma: sigma, errors: squaredDistances(model.denoised(x, sigma: sigma), reference),
            far: nearest.map { $0.squareRoot() > farRadius * sigma })
    }

    /// For each row of x, the squared distance to the nearest of `points`.
    static func nearestSquaredDistances(_ x: Matrix, _ points: Matrix) -> [Double] {
        Memorisation.nearest(x, points).map(\.squaredDistance)
    }

    static func level(sigma: Double, errors: [Double], far: [Bool]) -> Level {
        let farErrors = zip(errors, far).filter(\.1).map(\.0)
        return Level(
            sigma: sigma, median: quantile(errors, 0.5), p90: quantile(errors, 0.9),
            mean: errors.reduce(0, +) / Double(max(errors.count, 1)),
            farShare: Double(farErrors.count) / Double(max(errors.count, 1)),
            farMedian: farErrors.isEmpty ? .nan : quantile(farErrors, 0.5))
    }

    static func squaredDistances(_ a: Matrix, _ b: Matrix) -> [Double] {
        (0..<a.rows).map { r in
            var s = 0.0
            for c in 0..<a.cols {
                let d = Double(a[r, c]) - Double(b[r, c])
                s += d * d
            }
            return s
        }
    }

    static func squaredNorms(_ a: Matrix) -> [Double] {
        (0..<a.rows).map { r in
            (0..<a.cols).reduce(0.0) { $0 + Double(a[r, $1]) * Double(a[r, $1]) }
        }
    }

    /// The q-quantile of the values (nearest rank on the sorted values; nan for none).
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
    }
}
