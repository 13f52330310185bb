import ArgumentParser
import Engine
import Foundation
import Synchronization

/// Parses --aug-dim, explaining what is accepted.
func parseAugmentedDimension(_ text: String) throws -> AugmentedDimension {
    guard let d = AugmentedDimension(parsing: text) else {
        throw ValidationError("D must be \(AugmentedDimension.accepted)")
    }
    return d
}

/// Parses train's --aug-dim: one D, or a range LO..HI[,inf] for one network over it.
func parseTrainedDimensions(_ text: String) throws -> TrainedDimensions {
    guard let d = TrainedDimensions(parsing: text) else {
        throw ValidationError(
            """
            D must be \(AugmentedDimension.accepted), or a range LO..HI[,inf] with 0.1 ≤ LO < HI \
            (e.g. 1..4096,inf)
            """
        )
    }
    return d
}

extension Solver: ExpressibleByArgument {}

/// A one-line failure: ArgumentParser prints "Error: <message>" and exits non-zero.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Converts the engine's typed errors into one-line failures.
func attempt<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as StorageError { throw Failure(e.description) } catch let
        e as DataError
    {
        throw Failure(e.description)
    }
}

/// `--threads`, shared by the commands that train or sample.
struct ThreadOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            """
            Threads for training and sampling: each batch is cut into this many ranges of rows. \
            Default: the cores this process may use (affinity mask and cgroup CPU quota; \
            \(Cores.available) here).
            """,
            valueName: "n"))
    var threads: Int?

    /// The count in force: --threads, else every core this process may use.
    var count: Int { threads ?? min(Cores.available, 256) }

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256")
        }
    }

    func apply() { Compute.setThreads(count) }
}

/// `--bits`, shared by the commands that evaluate a trained model.
struct QuantizationOptions: ParsableArguments {
    @Option(
        help:
            """
            Quantize the model's weight tensors to this many bits (a copy; the checkpoint is \
            unchanged).
            """
    )
    var bits: Int?

    func validate() throws {
        if let bits {
            guard (1...32).contains(bits) else {
                throw ValidationError("--bits must be between 1 and 32")
            }
        }
    }

    /// Replaces the model's weights by their quantized copy when --bits is given.
    func apply(to model: NetworkDenoiser) {
        if let bits {
            model.network.parameters = Quantization.quantized(model.network.parameters, bits: bits)
        }
    }
}

/// Solver settings shared by `sample` (and later the studio).
struct ScheduleOptions: ParsableArguments {
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

    var schedule: NoiseSchedule {
        NoiseSchedule(steps: steps, sigmaMin: sigmaMin, sigmaMax: sigmaMax, rho: rho)
    }

    func validate() throws {
        if let problem = schedule.problem { throw ValidationError(problem) }
    }
}

/// Set by SIGINT/SIGTERM so long loops can stop at a clean point.
let stopRequested = Atomic<Bool>(false)

/// Installs the handlers and unblocks the signals: a parent may have blocked them, and a blocked
/// mask survives exec.
func installStopHandlers() {
    var set = sigset_t()
    sigemptyset(&set)
    for s in [SIGINT, SIGTERM, SIGHUP] {
        signal(s) { _ in stopRequested.store(true, ordering: .relaxed) }
        sigaddset(&set, s)
    }
    sigprocmask(SIG_UNBLOCK, &set, nil)
}

/// Progress on stderr: a redrawn bar on a terminal, plain periodic lines otherwise.
struct Progress {
    let total: Int
    /// The step this process started from: speed and ETA count only the steps it ran (a resumed
    /// run's earlier steps took no time here).
    let firstStep: Int
    let isTerminal = isatty(STDERR_FILENO) == 1
    var lastLine = 0.0
    let start = Stopwatch.now()

    init(total: Int, from firstStep: Int = 0) {
        self.total = total
        self.firstStep = firstStep
    }

    /// `rate`: the latest logged window's steps/s, or nil before the first, when the steps run so
    /// far give it.
    mutating func update(step: Int, loss: Float, rate windowRate: Double?, force: Bool = false) {
        let now = Stopwatch.now()
        let interval = isTerminal ? 0.1 : 10.0
        guard force || now - lastLine >= interval else { return }
        lastLine = now
        let rate = windowRate ?? Double(step - firstStep) / max(now - start, 1e-9)
        let remaining = rate > 0 ? Double(total - step) / rate : 0
        let fraction = Double(step) / Double(max(total, 1))
        let text = String(
            format: "step %d/%d  loss %.4f  %.1f steps/s  ETA %@", step, total, loss, rate,
            duration(remaining))
        if isTerminal {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar =
                String(repeating: "█", count: filled)
                + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K\(bar) \(text)".utf8))
        } else {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600
        ? "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
        : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}

func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Formats an ordered list of fields as one JSON object.
func jsonObject(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
}

func jsonNumber(_ v: Double) -> String {
    v.isFinite
        ? (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.6g", v)) : "null"
}

func jsonString(_ s: String) -> String {
    let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
        of: "\"", with: "\\\"")
    return "\"\(escaped)\""
}
