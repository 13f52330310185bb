import Foundation

public enum Solver: String, Sendable, CaseIterable, Codable {
    case heun, euler
}

/// The EDM noise-level schedule σ_i = (σ_max^(1/ρ) + i/(n−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ, i < n,
/// and σ_n = 0.
public struct NoiseSchedule: Sendable, Equatable, Codable {
    public var steps: Int
    public var sigmaMin: Double = 0.002
    public var sigmaMax: Double = 80
    public var rho: Double = 7

    public init(steps: Int, sigmaMin: Double = 0.002, sigmaMax: Double = 80, rho: Double = 7) {
        self.steps = steps
        self.sigmaMin = sigmaMin
        self.sigmaMax = sigmaMax
        self.rho = rho
    }

    /// n + 1 levels from σ_max down to 0.
    public var sigmas: [Double] {
        guard steps > 1 else { return [sigmaMax, 0] }
        let a = pow(sigmaMax, 1 / rho)
        let b = pow(sigmaMin, 1 / rho)
        let last = Double(steps - 1)
        var levels: [Double] = (0..<steps).map { i in
            let t = Double(i) / last
            return pow(a + t * (b - a), rho)
        }
        levels.append(0)
        return levels
    }

    /// Denoiser evaluations for a solver: Heun 2n − 1 (no correction on the last step), Euler n.
    public func functionEvaluations(_ solver: Solver) -> Int {
        solver == .heun ? 2 * steps - 1 : steps
    }

    /// Nil when the settings are usable, else what is wrong.
    /// σ_max may be at most this: prior draws far beyond it leave float32's range at small D.
    public static let largestSigma = 1e6

    public var problem: String? {
        if steps < 1 || steps > Limits.solverSteps {
            return "steps must be between 1 and \(Limits.solverSteps)"
        }
        if !(sigmaMin > 0 && sigmaMin.isFinite) { return "sigma-min must be a positive number" }
        if !(sigmaMax > sigmaMin && sigmaMax <= Self.largestSigma) {
            return "sigma-max must be above sigma-min and at most \(Self.largestSigma)"
        }
        if !(rho > 0 && rho.isFinite) { return "rho must be a positive number" }
        return nil
    }
}

/// EDM's stochastic sampler (Karras et al. 2022, Algorithm 2): at each step whose σ_i lies in
/// [S_min, S_max], σ̂ = (1 + γ)σ_i with γ = min(S_churn/n, √2 − 1), and x gains Gaussian noise
/// of standard deviation S_noise·√(σ̂² − σ_i²) before the step is taken from σ̂. S_churn = 0 is the
/// deterministic sampler.
public struct Churn: Sendable, Equatable, Codable {
    public var churn: Double = 0
    public var sMin: Double = 0
    public var sMax: Double = .infinity
    public var sNoise: Double = 1

    public init(churn: Double = 0, sMin: Double = 0, sMax: Double = .infinity, sNoise: Double = 1) {
        self.churn = churn
        self.sMin = sMin
        self.sMax = sMax
        self.sNoise = sNoise
    }

    /// γ_i of a step at `sigma` in a schedule of `steps` steps.
    public func gamma(sigma: Double, steps: Int) -> Double {
        guard churn > 0, sigma >= sMin, sigma <= sMax else { return 0 }
        return min(churn / Double(max(steps, 1)), 2.0.squareRoot() - 1)
    }

    public var problem: String? {
        if !(churn >= 0 && churn.isFinite) { return "--s-churn must be a number ≥ 0" }
        if !(sMin >= 0 && sMin.isFinite) { return "--s-min must be a number ≥ 0" }
        if !(sMax >= sMin) { return "--s-max must be at least --s-min" }
        if !(sNoise >= 0 && sNoise.isFinite) { return "--s-noise must be a number ≥ 0" }
        return nil
    }

    /// Written s_churn, s_min, s_max, s_noise by the snake-case coders of run and sweep files.
    enum CodingKeys: String, CodingKey {
        case churn = "sChurn"
        case sMin, sMax, sNoise
    }

    /// JSON has no ∞: S_max = ∞ is written as null.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(churn, forKey: .churn)
        try c.encode(sMin, forKey: .sMin)
        try c.encode(sMax.isFinite ? sMax : nil, forKey: .sMax)
        try c.encode(sNoise, forKey: .sNoise)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        churn = try c.decodeIfPresent(Double.self, forKey: .churn) ?? 0
        sMin = try c.decodeIfPresent(Double.self, forKey: .sMin) ?? 0
        sMax = try c.decodeIfPresent(Double.self, forKey: .sMax) ?? .infinity
        sNoise = try c.decodeIfPresent(Double.self, forKey: .sNoise) ?? 1
    }
}

/// Solves the probability-flow ODE dx/dσ = (x − D(x, σ))/σ from σ_max to 0, the same for every D.
public struct Sampler {
    public var schedule: NoiseSchedule
    public var solver: Solver
    /// Noise injection: at the start of each step x ← x + α·σ_i·ε.
    public var alpha: Double
    /// EDM's churn (off by default: the probability-flow ODE as it is).
    public var churn: Churn

    public init(
        schedule: NoiseSchedule, solver: Solver = .heun, alpha: Double = 0, churn: Churn = Churn()
    ) {
        self.schedule = schedule
        self.solver = solver
        self.alpha = alpha
        self.churn = churn
    }

    /// Integrates `x` (rows × N, drawn from the prior at σ_max) in place to data.
    /// `observe` sees x after each step with the σ it has reached; `shouldStop`, asked after each
    /// step, can abandon the run (then the result is true and x is partly integrated).
    @discardableResult
    public func run(
        _ x: inout Matrix, denoiser: Denoiser, rng: inout RandomSource,
        observe: ((Matrix, Double) -> Void)? = nil, shouldStop: (() -> Bool)? = nil
    ) -> Bool {
        precondition(
            x.cols == denoiser.dim, "latents have \(x.cols) columns, the denoiser \(denoiser.dim)")
        let count = x.count
        let rows = x.rows
        var denoised = Matrix(rows: rows, cols: x.cols)
        var slope = denoised
        var slopeNext = denoised
        var next = denoised
        var noise = [Float](repeating: 0, count: count)
        let sigmas = schedule.sigmas
        // x ← x + s·ε, ε drawn from the seeded generator.
        func addNoise(_ s: Double) {
            noise.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
            let scale = Float(s)
            for j in 0..<count { x.storage[j] += scale * noise[j] }
        }
        for i in 0..<(sigmas.count - 1) {
            var sigma = sigmas[i]
            let sigmaNext = sigmas[i + 1]
            if alpha > 0 { addNoise(alpha * sigma) }
            let gamma = churn.gamma(sigma: sigma, steps: schedule.steps)
            if gamma > 0 {
                let raised = sigma + gamma * sigma
                addNoise((raised * raised - sigma * sigma).squareRoot() * churn.sNoise)
                sigma = raised
            }
            evaluateSlope(x, sigma: sigma, denoiser: denoiser, denoised: &denoised, into: &slope)
            let h = Float(sigmaNext - sigma)
            for j in 0..<count { next.storage[j] = x.storage[j] + h * slope.storage[j] }
            if solver == .heun && sigmaNext > 0 {
                evaluateSlope(
                    next, sigma: sigmaNext, denoiser: denoiser, denoised: &denoised,
                    into: &slopeNext)
                for j in 0..<count {
                    next.storage[j] =
                        x.storage[j] + h * 0.5 * (slope.storage[j] + slopeNext.storage[j])
                }
            }
            swap(&x, &next)
            observe?(x, sigmaNext)
            if shouldStop?() == true { return true }
        }
        return false
    }

    /// slope ← (x − D(x, σ))/σ.
    private func evaluateSlope(
        _ x: Matrix, sigma: Double, denoiser: Denoiser, denoised: inout Matrix,
        into slope: inout Matrix
    ) {
        x.storage.withUnsafeBufferPointer { px in
            denoised.storage.withUnsafeMutableBufferPointer { pd in
                guard let bx = px.baseAddress, let bd = pd.baseAddress else { return }
                denoiser.denoise(bx, rows: x.rows, sigma: Float(sigma), into: bd)
            }
        }
        let inv = Float(1 / sigma)
        for j in 0..<x.count { slope.storage[j] = (x.storage[j] - denoised.storage[j]) * inv }
    }
}
