import Foundation

/// A training run on disk: config.json              the TrainingConfig (snake_case keys)
///   checkpoint.safetensors   the EMA weights, with step, aug_dim and sigma_data in its metadata
///   optimizer.safetensors    everything to resume exactly: raw and EMA weights, Adam moments
///   (flat, in the order the "layout" metadata names), generator states stats.jsonl
///   one JSON object per logged step: step, loss, steps_per_s, elapsed_s Every file is written
///   atomically. Resuming reads the optimizer file alone, so a stop between the two writes leaves a
///   consistent state (the checkpoint then lags one save behind).
public struct RunDirectory: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public var configPath: String { path + "/config.json" }
    public var checkpointPath: String { path + "/checkpoint.safetensors" }
    public var optimizerPath: String { path + "/optimizer.safetensors" }
    public var statsPath: String { path + "/stats.jsonl" }

    public var exists: Bool { FileManager.default.fileExists(atPath: configPath) }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }()

    public func create() throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StorageError(
                path, "cannot create the run directory (\(error.localizedDescription))")
        }
    }

    /// Writes config.json, with a data file recorded so that the run finds it from any folder
    /// (`DataLocation`).
    public func writeConfig(_ config: TrainingConfig) throws(StorageError) {
        guard let data = try? Self.encoder.encode(config.locatingData(forRunAt: path)) else {
            throw StorageError(configPath, "cannot encode")
        }
        try AtomicFile.write([UInt8](data) + [10], to: configPath)
    }

    public func readConfig() throws(StorageError) -> TrainingConfig {
        let bytes = try AtomicFile.read(configPath)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config: TrainingConfig
        do { config = try decoder.decode(TrainingConfig.self, from: Data(bytes)) } catch {
            throw StorageError(
                configPath,
                "not a valid run config (\(Self.fieldProblem(bytes) ?? Self.reason(error)))")
        }
        if let problem = config.problem { throw StorageError(configPath, problem) }
        return config
    }

    /// Saves the trainer's full state: optimizer file first, then the EMA checkpoint.
    /// Refuses to write non-finite weights, so a diverged run never replaces a good checkpoint.
    public func save(_ trainer: Trainer) throws(StorageError) {
        let p = trainer.network.parameters
        guard p.isFinite, trainer.ema.average.isFinite else {
            throw StorageError(
                path,
                """
                weights at step \(trainer.step) are NaN or infinite; the last saved checkpoint is \
                kept
                """
            )
        }
        var tensors = p.tensors().map {
            NamedTensor(name: "params." + $0.name, shape: $0.shape, values: $0.values)
        }
        tensors += trainer.ema.average.tensors().map {
            NamedTensor(name: "ema." + $0.name, shape: $0.shape, values: $0.values)
        }
        tensors.append(
            NamedTensor(name: "adam.m", shape: [p.count], values: trainer.adam.firstMoment.array))
        tensors.append(
            NamedTensor(name: "adam.v", shape: [p.count], values: trainer.adam.secondMoment.array))
        let state: [String: String] = [
            "step": String(trainer.step), "adam_step": String(trainer.adam.step),
            "ema_updates": String(trainer.ema.updates), "layout": Self.layout(of: p),
            "data_rng": trainer.dataRNG.state.map(String.init).joined(separator: ","),
            "noise_rng": trainer.noiseRNG.state.map(String.init).joined(separator: ","),
        ]
        try SafeTensors.write(
            SafeTensors.File(tensors: tensors, metadata: state), to: optimizerPath)
        let metadata = [
            "step": String(trainer.step), "aug_dim": trainer.config.augDim.description,
            "sigma_data": String(trainer.config.sigmaData),
            "architecture": trainer.config.architecture.rawValue,
        ]
        try SafeTensors.write(
            SafeTensors.File(tensors: trainer.ema.average.tensors(), metadata: metadata),
            to: checkpointPath)
    }

    /// Restores a trainer from the directory (config, weights, optimizer, generators) and trims
    /// stats lines logged after the saved step.
    ///
    /// Runs written by other programs (the PyTorch trainer) may leave out parts: without the
    /// generator states, fresh streams are derived from the seed and the step; without an optimizer
    /// file, training continues from the EMA weights of the checkpoint with fresh Adam moments. A
    /// run stopped before its first save (config.json alone) starts again at step 0, exactly as it
    /// first started.
    public func resume(data: Matrix) throws(StorageError) -> Trainer {
        let config = try readConfig()
        let trainer: Trainer
        do { trainer = try Trainer(config: config, data: data) } catch {
            throw StorageError(path, error.description)
        }
        let hasOptimizer = FileManager.default.fileExists(atPath: optimizerPath)
        if !hasOptimizer && !FileManager.default.fileExists(atPath: checkpointPath) {
            try trimStats(after: 0)
            return trainer
        }
        guard hasOptimizer else { return try resumeFromCheckpoint(trainer) }
        let optimizer = try SafeTensors.read(optimizerPath)
        guard let step = optimizer.metadata["step"].flatMap(Int.init), step >= 0,
            let adamStep = optimizer.metadata["adam_step"].flatMap(Int.init), adamStep >= 0,
            let emaUpdates = optimizer.metadata["ema_updates"].flatMap(Int.init), emaUpdates >= 0
        else {
            throw StorageError(
                optimizerPath,
                "optimizer state is incomplete (needs step, adam_step and ema_updates)")
        }
        if let layout = optimizer.metadata["layout"],
            layout != Self.layout(of: trainer.network.parameters)
        {
            throw StorageError(
                optimizerPath,
                """
                the parameter order differs from this model's, so the Adam moments cannot be \
                matched
                """
            )
        }
        let (dataRNG, noiseRNG) = try generators(optimizer.metadata, step: step, seed: config.seed)
        func group(_ prefix: String) -> [NamedTensor] {
            optimizer.tensors.filter { $0.name.hasPrefix(prefix) }
                .map {
                    NamedTensor(
                        name: String($0.name.dropFirst(prefix.count)), shape: $0.shape,
                        values: $0.values)
                }
        }
        do {
            try trainer.network.parameters.load(group("params."))
            try trainer.ema.average.load(group("ema."))
            try trainer.adam.restore(
                step: adamStep, firstMoment: optimizer.tensor(named: "adam.m")?.values ?? [],
                secondMoment: optimizer.tensor(named: "adam.v")?.values ?? [])
        } catch { throw StorageError(optimizerPath, error.description) }
        guard trainer.network.parameters.isFinite, trainer.ema.average.isFinite else {
            throw StorageError(optimizerPath, "weights contain NaN or infinite values")
        }
        trainer.ema.restore(updates: emaUpdates)
        trainer.restore(step: step, dataRNG: dataRNG, noiseRNG: noiseRNG)
        try trimStats(after: step)
        return trainer
    }

    /// The saved generator states, or both missing: streams derived from the seed and the step.
    private func generators(_ metadata: [String: String], step: Int, seed: UInt64)
        throws(StorageError) -> (RandomSource, RandomSource)
    {
        switch (metadata["data_rng"], metadata["noise_rng"]) {
        case (nil, nil):
            let base = seed &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15
            return (RandomSource(seed: base, stream: 1), RandomSource(seed: base, stream: 2))
        case (let d, let n):
            guard let data = Self.generator(d), let noise = Self.generator(n) else {
                throw StorageError(optimizerPath, "optimizer state has malformed generator states")
            }
            return (data, noise)
        }
    }

    /// A run with no optimizer file: raw and EMA weights from the checkpoint, step from its
    /// metadata.
    private func resumeFromCheckpoint(_ trainer: Trainer) throws(StorageError) -> Trainer {
        let checkpoint = try SafeTensors.read(checkpointPath)
        guard let step = checkpoint.metadata["step"].flatMap(Int.init), step >= 0 else {
            throw StorageError(
                checkpointPath,
                "metadata has no step, and there is no optimizer.safetensors to resume from")
        }
        do {
            try trainer.network.parameters.load(checkpoint.tensors)
            try trainer.ema.average.load(checkpoint.tensors)
        } catch { throw StorageError(checkpointPath, error.description) }
        guard trainer.network.parameters.isFinite else {
            throw StorageError(checkpointPath, "weights contain NaN or infinite values")
        }
        trainer.ema.restore(updates: step)
        let (dataRNG, noiseRNG) = try generators([:], step: step, seed: trainer.config.seed)
        trainer.restore(step: step, dataRNG: dataRNG, noiseRNG: noiseRNG)
        try trimStats(after: step)
        return trainer
    }

    /// The parameter names in storage order, which the flat Adam moments follow.
    static func layout(of parameters: ParameterStore) -> String {
        parameters.slots.map(\.name).joined(separator: ",")
    }

    /// The EMA denoiser and config of a finished or running run, for sampling.
    public func loadDenoiser() throws(StorageError) -> (NetworkDenoiser, TrainingConfig) {
        let config = try readConfig()
        try checkCheckpoint(against: config)
        return (
            try denoiser(config: config, checkpoint: try SafeTensors.read(checkpointPath)), config
        )
    }

    /// Compares the checkpoint's header with what config.json describes before any weights are read
    /// or any network is built: the D it was trained at, then its size.
    public func checkCheckpoint(against config: TrainingConfig) throws(StorageError) {
        let header = try SafeTensors.header(checkpointPath)
        if let saved = header.metadata["aug_dim"], let dims = TrainedDimensions(parsing: saved),
            dims != config.augDim
        {
            throw StorageError(
                checkpointPath, "was trained at D=\(saved), but config.json says D=\(config.augDim)"
            )
        }
        if let saved = header.metadata["architecture"], saved != config.architecture.rawValue {
            throw StorageError(
                checkpointPath,
                """
                holds a \(saved) network, but config.json describes a \
                \(config.architecture.rawValue)
                """)
        }
        guard header.valueCount == config.parameterCount else {
            throw StorageError(
                checkpointPath,
                "holds \(header.valueCount) weights, but the network config.json describes "
                    + """
                    (N=\(config.dim), width \(config.width), depth \(config.depth)) has \
                    \(config.parameterCount)
                    """
            )
        }
    }

    /// The denoiser of `config` over the weights of a checkpoint file read from this run.
    public func denoiser(config: TrainingConfig, checkpoint: SafeTensors.File) throws(StorageError)
        -> NetworkDenoiser
    {
        let net = config.makeNetwork(seed: 0)
        do { try net.parameters.load(checkpoint.tensors) } catch {
            throw StorageError(checkpointPath, error.description)
        }
        guard net.parameters.isFinite else {
            throw StorageError(checkpointPath, "weights contain NaN or infinite values")
        }
        return NetworkDenoiser(network: net, sigmaData: config.sigmaData)
    }

    /// Appends one line to stats.jsonl in a single write.
    public func appendStats(_ stats: StatsLine) throws(StorageError) {
        let line = stats.encoded
        let fd = open(statsPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError(statsPath, "cannot open for appending") }
        defer { close(fd) }
        try line.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try AtomicFile.writeAll(fd, raw, path: statsPath) }
        }.get()
    }

    /// The lines of stats.jsonl, in order; unreadable lines are skipped.
    public func loggedLosses() -> [StatsLine] {
        guard let bytes = try? AtomicFile.read(statsPath) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap {
            StatsLine(parsing: $0)
        }
    }

    /// Keeps the stats lines with step ≤ `step` (and drops a torn last line).
    public func trimStats(after step: Int) throws(StorageError) {
        guard FileManager.default.fileExists(atPath: statsPath) else { return }
        let text = String(decoding: try AtomicFile.read(statsPath), as: UTF8.self)
        let kept = text.split(separator: "\n").filter { line in
            StatsLine(parsing: line).map { $0.step <= step } ?? false
        }
        try AtomicFile.write(Array(kept.map { $0 + "\n" }.joined().utf8), to: statsPath)
    }

    static func generator(_ text: String?) -> RandomSource? {
        guard let parts = text?.split(separator: ",").map({ UInt64($0) }),
            parts.allSatisfy({ $0 != nil })
        else { return nil }
        return RandomSource(state: parts.compactMap { $0 })
    }

    /// The first field of a config that does not hold its kind of value, found by reading the JSON
    /// untyped (the decoder reports a number that does not fit its field only as "not valid JSON").
    static func fieldProblem(_ bytes: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        else { return nil }
        let integers = [
            "batch", "channels", "depth", "dim", "embedding_channels", "seed", "steps",
            "warmup_steps", "width",
        ]
        for key in integers {
            guard let value = object[key], !(value is NSNull) else { continue }
            guard let n = value as? NSNumber,
                n.doubleValue.rounded() == n.doubleValue, abs(n.doubleValue) < 9e15
            else {
                return "'\(key)' must be a whole number, found \(value)"
            }
            if n.doubleValue < 0 { return "'\(key)' must not be negative, found \(n)" }
        }
        return nil
    }

    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let c) where !c.codingPath.isEmpty:
            """
            bad value for '\(c.codingPath.map(\.stringValue).joined(separator: "."))' \
            (\(c.debugDescription))
            """
        case DecodingError.dataCorrupted: "not valid JSON"
        default: "\(error)"
        }
    }
}
