import ArgumentParser
import Engine
import Foundation

/// The solver's settings: the schedule (steps, σ range, ρ), the solver and noise injection.
struct SolverOptions: ParsableArguments {
    @Option(help: "Solver steps n (Heun uses 2n − 1 denoiser evaluations, Euler n).")
    var steps: Int = 18

    @Option(
        name: .customLong("sigma-min"), help: "Smallest noise level σ_min (lower it for small D).")
    var sigmaMin: Double = 0.002

    @Option(
        name: .customLong("sigma-max"), help: "Largest noise level σ_max, where the prior is drawn."
    )
    var sigmaMax: Double = 80

    @Option(help: "Schedule exponent ρ.")
    var rho: Double = 7

    @Option(help: "Solver: heun or euler.")
    var solver: Solver = .heun

    @Option(help: "Noise injection α: x ← x + α·σ_i·ε at the start of each step.")
    var alpha: Double = 0

    @OptionGroup var churning: ChurnOptions

    func validate() throws {
        if let problem = schedule.problem { throw ValidationError(problem) }
        guard alpha >= 0, alpha.isFinite else {
            throw ValidationError("--alpha must be a non-negative number")
        }
    }

    var schedule: NoiseSchedule {
        NoiseSchedule(steps: steps, sigmaMin: sigmaMin, sigmaMax: sigmaMax, rho: rho)
    }

    var churn: Churn { churning.churn }

    var sampler: Sampler {
        Sampler(schedule: schedule, solver: solver, alpha: alpha, churn: churn)
    }

    /// One line saying what is sampled.
    func describe(count: Int, augmentedDimension d: AugmentedDimension) -> String {
        """
        sampling \(count) points, D=\(d), \(solver.rawValue) with \(steps) steps: NFE \
        \(schedule.functionEvaluations(solver))\(churn.churn > 0 ? ", S_churn \(churn.churn)" : "")
        """
    }
}

/// EDM's stochastic sampler, wherever samples are drawn (sample, eval, sweep, the studio).
struct ChurnOptions: ParsableArguments {
    @Option(
        name: .customLong("s-churn"),
        help:
            """
            EDM's stochastic sampler: churn S_churn (0: the deterministic sampler). Each step with \
            σ_i in [S_min, S_max] starts from σ̂ = (1 + γ)σ_i, γ = min(S_churn/steps, √2 − 1), \
            adding noise S_noise·√(σ̂² − σ_i²)·ε.
            """)
    var sChurn: Double = 0

    @Option(name: .customLong("s-min"), help: "Smallest σ_i that is churned (S_min).")
    var sMin: Double = 0

    @Option(name: .customLong("s-max"), help: "Largest σ_i that is churned (S_max; inf: no bound).")
    var sMax: Double = .infinity

    @Option(name: .customLong("s-noise"), help: "Churn noise inflation S_noise.")
    var sNoise: Double = 1

    func validate() throws {
        if let problem = churn.problem { throw ValidationError(problem) }
    }

    var churn: Churn { Churn(churn: sChurn, sMin: sMin, sMax: sMax, sNoise: sNoise) }

    /// The settings as JSON fields (S_max = ∞ as null).
    var fields: [(String, String)] {
        [
            ("s_churn", jsonNumber(sChurn)), ("s_min", jsonNumber(sMin)),
            ("s_max", sMax.isFinite ? jsonNumber(sMax) : "null"), ("s_noise", jsonNumber(sNoise)),
        ]
    }
}

/// The sampler's settings, shared by `sample` and `eval --ckpt`.
struct SamplerOptions: ParsableArguments {
    @OptionGroup var solving: SolverOptions

    @OptionGroup var quantization: QuantizationOptions

    @Option(help: "Seed for the prior draws and injected noise.")
    var seed: UInt64 = 0

    @Option(
        name: .customLong("prior-quantile"),
        help:
            """
            Draw the prior only up to this quantile of the kernel (default: the run's kernel \
            quantile in training; 1: the whole prior).
            """
    )
    var priorQuantile: Double?

    func validate() throws {
        if let q = priorQuantile, !(q >= 0.5 && q <= 1) {
            throw ValidationError("--prior-quantile must be in [0.5, 1]")
        }
    }

    var sampler: Sampler { solving.sampler }

    /// Sampling with `denoiser` at D, trained with `trainedQuantile`: the prior cut as
    /// --prior-quantile or the training kernel says (whole when neither cuts), weights at --bits.
    func request(
        _ denoiser: Denoiser, augmentedDimension d: AugmentedDimension, trainedQuantile: Double?
    ) -> SamplingRequest {
        SamplingRequest(
            denoiser: denoiser, augmentedDimension: d, sampler: sampler,
            truncation: KernelTruncation.make(
                quantile: priorQuantile ?? trainedQuantile, dim: denoiser.dim,
                augmentedDimension: d),
            bits: quantization.bits ?? SamplingRequest.fullBits, scheme: quantization.quantScheme)
    }

    func describe(count: Int, augmentedDimension d: AugmentedDimension) -> String {
        solving.describe(count: count, augmentedDimension: d)
    }

    /// The settings as JSON fields.
    func fields(trainedQuantile: Double?) -> [(String, String)] {
        let s = solving.schedule
        return [
            ("solver", jsonString(solving.solver.rawValue)), ("steps", String(s.steps)),
            ("nfe", String(s.functionEvaluations(solving.solver))),
            ("sigma_min", jsonNumber(s.sigmaMin)),
            ("sigma_max", jsonNumber(s.sigmaMax)), ("rho", jsonNumber(s.rho)),
            ("alpha", jsonNumber(solving.alpha)),
        ] + solving.churning.fields + [
            ("bits", quantization.bits.map(String.init) ?? "null"),
            ("quant_scheme", jsonString(quantization.quantScheme.rawValue)), ("seed", String(seed)),
            ("prior_quantile", jsonNumber(priorQuantile ?? trainedQuantile ?? 1)),
        ]
    }
}

/// A run's EMA denoiser at the requested D (its own D, or for one network over a range any D in it,
/// the range's top by default).
func loadTrainedModel(
    _ ckpt: String, augmentedDimension requested: AugmentedDimension?
) throws -> (NetworkDenoiser, TrainingConfig, AugmentedDimension) {
    let (model, config) = try RunDirectory(ckpt).loadDenoiser()
    let trained = config.augDim
    let d = requested ?? trained.defaultDimension
    guard trained.contains(d) else {
        if case .range(let range) = trained {
            throw Failure(
                "--aug-dim \(d): the one network in \(ckpt) answers for D in \(range) only")
        }
        throw Failure(
            "--aug-dim \(d): the model in \(ckpt) was trained at D=\(trained); its prior must match"
        )
    }
    model.augmentedDimension = d
    return (model, config, d)
}
