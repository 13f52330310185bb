import ArgumentParser
import Engine
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a PFGM++ denoiser (MLP-EDM or U-Net) at one augmented dimension D.",
        discussion: """
            Writes OUT/config.json, OUT/checkpoint.safetensors (EMA weights), \
            OUT/optimizer.safetensors and OUT/stats.jsonl. Ctrl-C saves and stops; \
            `--resume OUT --steps K` continues to step K.
            """
    )

    @Option(
        help:
            """
            Data set: \(Dataset.builtInNames.joined(separator: ", ")), or a .npy file (K, N). With \
            --resume: where the run's data is now, when it moved.
            """
    )
    var data: String?

    @Option(
        name: .customLong("aug-dim"),
        help:
            """
            Augmented dimension D: a number ≥ 0.1 or inf; or a range LO..HI[,inf] to train one \
            network that answers at every D in it (see --feature-share and --infinity-share).
            """,
        transform: parseTrainedDimensions)
    var augDim: TrainedDimensions?

    @Option(help: "Train until this step.")
    var steps: Int

    @Option(help: "Examples per step.")
    var batch: Int = 512

    @Option(help: "Adam learning rate.")
    var lr: Double = 1e-3

    @Option(help: "Learning-rate warm-up: the rate ramps up linearly over this many steps.")
    var warmup: Int = 200

    @Option(help: "Seed for the initial weights, data order and noise.")
    var seed: UInt64 = 0

    @Option(help: "Run directory to create.")
    var out: String?

    @Option(help: "Continue the run in this directory.")
    var resume: String?

    @Option(help: "Coordinates of the manifold data set (N).")
    var dim: Int?

    @OptionGroup var network: NetworkOptions

    @Option(name: .customLong("ema-decay"), help: "Decay of the weights' moving average.")
    var emaDecay: Double = 0.999

    @Option(
        name: .customLong("kernel-quantile"),
        help: "Draw training radii only up to this quantile of the kernel (1: the whole kernel).")
    var kernelQuantile: Double = TrainingConfig.defaultKernelQuantile

    @Flag(
        name: .customLong("ema-warmup"), inversion: .prefixedNo,
        help: "Ramp the EMA decay up as min(decay, (1+t)/(10+t)).")
    var emaWarmup = true

    @OptionGroup var draws: DrawOptions

    @OptionGroup var scheduling: ScheduleOptions

    @Option(name: .customLong("log-every"), help: "Steps between stats.jsonl lines.")
    var logEvery: Int = 50

    @Option(name: .customLong("save-every"), help: "Steps between checkpoints.")
    var saveEvery: Int = 1000

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (1...Limits.trainingSteps).contains(steps) else {
            throw ValidationError("--steps must be between 1 and \(Limits.trainingSteps)")
        }
        guard (1...1_000_000).contains(batch) else {
            throw ValidationError("--batch must be between 1 and 1000000")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard (0...Limits.trainingSteps).contains(warmup) else {
            throw ValidationError("--warmup must be between 0 and \(Limits.trainingSteps)")
        }
        guard kernelQuantile >= 0.5 && kernelQuantile <= 1 else {
            throw ValidationError("--kernel-quantile must be in [0.5, 1]")
        }
        if draws.given {
            guard resume == nil, case .range(let range)? = augDim else {
                throw ValidationError(
                    "\(DrawOptions.flags) shape a new one network's draws (--aug-dim LO..HI[,inf])")
            }
            if let problem = draws.draws(over: range).problem(range) {
                throw ValidationError(problem)
            }
        }
        guard logEvery >= 1, saveEvery >= 1 else {
            throw ValidationError("--log-every and --save-every must be at least 1")
        }
        if resume == nil {
            guard data != nil else { throw ValidationError("--data is required (or --resume DIR)") }
            guard augDim != nil else {
                throw ValidationError("--aug-dim is required: \(AugmentedDimension.accepted)")
            }
            guard out != nil else { throw ValidationError("--out is required (or --resume DIR)") }
        } else if out != nil && out != resume {
            throw ValidationError("--resume continues in its own directory; drop --out")
        }
    }

    func run() throws {
        threading.apply()
        let (trainer, run, lock) = try attempt(prepare)
        installStopHandlers()
        try attempt { try loop(trainer, run) }
        withExtendedLifetime(lock) {}
    }

    private func prepare() throws -> (Trainer, RunDirectory, RunLock) {
        if let resume {
            let run = RunDirectory(resume)
            guard run.exists else {
                throw Failure("\(resume): no run here (config.json is missing)")
            }
            let lock = try RunLock(run: run)
            var config = try run.readConfig()
            config.data = try run.dataSpec(config, override: data)
            let dataset = try Dataset.load(config.data, dim: config.dim)
            let trainer = try run.resume(data: dataset.train)
            guard steps > trainer.step else {
                throw Failure("--steps \(steps): the run is already at step \(trainer.step)")
            }
            config.steps = steps
            try run.writeConfig(config)
            return (trainer, run, lock)
        }
        guard let data, let augDim, let out else {
            throw Failure("--data, --aug-dim and --out are required")
        }
        let run = RunDirectory(out)
        if run.exists {
            let saved = FileManager.default.fileExists(atPath: run.checkpointPath)
            throw Failure(
                "\(out) already holds a run\(saved ? "" : " stopped before its first save")"
                    + """
                    ; continue it with --resume \(out)\(saved ? "" : " (from step 0)") or \
                    choose another --out
                    """
            )
        }
        let dataset = try Dataset.load(data, dim: dim)
        var config = TrainingConfig(
            data: data, dim: dataset.dim, dimensions: augDim, sigmaData: dataset.sigmaData,
            steps: steps)
        config.batch = batch
        config.learningRate = lr
        config.warmupSteps = warmup
        config.seed = seed
        config.architecture = network.arch.configName
        config.channels = dataset.imageChannels
        config.width = network.width
        config.depth = network.depth
        config.emaDecay = emaDecay
        config.emaWarmup = emaWarmup
        config.kernelQuantile = kernelQuantile
        if case .range(let range) = config.augDim { draws.draws(over: range).apply(to: &config) }
        scheduling.schedule.apply(to: &config)
        if let problem = config.problem { throw Failure(problem) }
        let trainer = try Trainer(config: config, data: dataset.train)
        try run.create()
        let lock = try RunLock(run: run)
        try run.writeConfig(config)
        let shape =
            """
            \(network.arch.rawValue) W=\(config.width) L=\(config.depth), \
            \(trainer.network.parameters.count) parameters
            """
        note(
            """
            training \(augDim.isRange ? "one network over D=" : "D=")\(augDim) on \(data) \
            (N=\(dataset.dim), σ_d=\(String(format: "%.3f", dataset.sigmaData))) with \(shape) for \
            \(steps) steps → \(out)
            """
        )
        return (trainer, run, lock)
    }

    private func loop(_ trainer: Trainer, _ run: RunDirectory) throws {
        var progress = Progress(total: steps, from: trainer.step)
        let start = Stopwatch.now()
        var windowStart = start
        var window = StatsWindow()
        var rate: Double?
        while trainer.step < steps {
            let loss = trainer.trainStep()
            guard loss.isFinite else {
                try run.save(trainer)
                progress.finish()
                throw Failure(
                    """
                    training diverged at step \(trainer.step + 1) (loss \(loss)); the last good \
                    weights are saved in \(run.path); try a smaller --lr
                    """
                )
            }
            window.add(loss)
            let now = Stopwatch.now()
            if trainer.step % logEvery == 0 || trainer.step == steps {
                let line = window.close(
                    step: trainer.step, wall: now - windowStart, elapsed: now - start)
                rate = line.stepsPerSecond
                try run.appendStats(line)
                windowStart = now
            }
            if trainer.step % saveEvery == 0 && trainer.step < steps { try run.save(trainer) }
            progress.update(
                step: trainer.step, loss: loss, rate: rate, force: trainer.step == steps)
            if stopRequested.load(ordering: .relaxed) {
                try run.save(trainer)
                progress.finish()
                throw Failure(
                    """
                    stopped at step \(trainer.step); saved. Continue with: pfgm train --resume \
                    \(run.path) --steps \(steps)
                    """
                )
            }
        }
        try run.save(trainer)
        progress.finish()
        note(
            String(
                format: "done: step %d, %d steps in %.1f s; checkpoint %@", trainer.step,
                trainer.step - progress.firstStep, Stopwatch.now() - start, run.checkpointPath))
    }
}
