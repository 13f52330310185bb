import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A run trained by another program (`pfgm train`, a sweep, `pfgm_torch.train`), read without its
/// lock and without writing a byte under it: the losses tail `stats.jsonl`, and the EMA weights are
/// reread whenever a new checkpoint lands. A checkpoint that fails to read is retried at the next
/// poll.
public final class FollowedRun {
    public let run: RunDirectory
    public private(set) var config: TrainingConfig
    /// The denoiser over the EMA weights of the last checkpoint read; nil until one reads.
    public private(set) var model: NetworkDenoiser?
    public private(set) var checkpointStep = 0
    private(set) var loggedStep = 0
    private(set) var stepsPerSecond = 0.0
    public private(set) var history = LossHistory()
    private(set) var lastLoss: Float?
    /// When the checkpoint or the stats last changed (Stopwatch time).
    private(set) var lastChange: Double
    /// What is wrong now, shown on screen; nil when all reads: the run changed into another one
    /// (kept until the studio restarts), the folder is gone, a checkpoint does not read, or the
    /// stats cannot be read.
    public var problem: String? { changed ?? folderProblem ?? checkpointProblem ?? statsProblem }
    private var changed: String?, folderProblem: String?, checkpointProblem: String?,
        statsProblem: String?
    private var checkpointStamp: FileStamp?
    private var configStamp: FileStamp?
    private var statsStamp: FileStamp?
    private var statsOffset = 0

    init(run: RunDirectory, config: TrainingConfig) {
        self.run = run
        self.config = config
        lastChange = Stopwatch.now()
    }

    var dimensions: TrainedDimensions? { config.augDim }
    /// The step shown: the checkpoint's, or the logged one when the stats run ahead of it.
    public var step: Int { max(checkpointStep, loggedStep) }

    /// Rereads what changed.
    func poll() {
        guard FileManager.default.fileExists(atPath: run.configPath) else {
            folderProblem = "\(run.path) is gone; showing the last weights read"
            return
        }
        folderProblem = nil
        rereadConfig()
        tailStats()
        if changed == nil { reloadCheckpoint() }
    }

    /// A denoiser at D over the last weights read (a network of its own: quantizing it leaves them
    /// alone).
    func denoiser(at d: AugmentedDimension) -> NetworkDenoiser? {
        guard let model else { return nil }
        let copy = model.over(model.network.parameters)
        if copy.network.conditionsOnAugmentedDimension { copy.augmentedDimension = d }
        return copy
    }

    /// A resumed run may have a new target step; a config that fails to read keeps the last one. A
    /// config of another run (other data, N, D or network) is said on screen and not followed: the
    /// last weights stay.
    private func rereadConfig() {
        guard let stamp = FileStamp(run.configPath), stamp != configStamp else { return }
        guard let fresh = try? run.readConfig() else { return }
        configStamp = stamp
        if let change = Self.change(from: config, to: fresh) {
            changed =
                """
                the run became another (\(change)); showing the last weights read, restart to \
                follow it
                """
            return
        }
        config = fresh
    }

    /// What makes `fresh` another run than `old`, in words; nil when only its progress changed.
    static func change(from old: TrainingConfig, to fresh: TrainingConfig) -> String? {
        var changes: [String] = []
        if old.data != fresh.data { changes.append("data \(old.data) → \(fresh.data)") }
        if old.dim != fresh.dim { changes.append("N \(old.dim) → \(fresh.dim)") }
        if old.augDim != fresh.augDim {
            changes.append("D \(old.augDim) → \(fresh.augDim)")
        }
        if old.architecture != fresh.architecture || old.width != fresh.width
            || old.depth != fresh.depth
            || old.embeddingChannels != fresh.embeddingChannels || old.channels != fresh.channels
        {
            changes.append(
                "network \(old.architecture) W=\(old.width) L=\(old.depth) → "
                    + "\(fresh.architecture) W=\(fresh.width) L=\(fresh.depth)")
        }
        return changes.isEmpty ? nil : changes.joined(separator: ", ")
    }

    private func reloadCheckpoint() {
        guard let stamp = FileStamp(run.checkpointPath) else {
            // None yet is the normal start of a run, not a problem.
            checkpointProblem =
                model == nil ? nil : "checkpoint missing; showing the last weights read"
            return
        }
        guard stamp != checkpointStamp else { return }
        do throws(StorageError) {
            try run.checkCheckpoint(against: config)
            let file = try SafeTensors.read(run.checkpointPath)
            // Replaced while being read: read it again at the next poll.
            guard FileStamp(run.checkpointPath) == stamp else { return }
            model = try run.denoiser(config: config, checkpoint: file)
            checkpointStep = file.metadata["step"].flatMap(Int.init) ?? checkpointStep
            checkpointStamp = stamp
            lastChange = Stopwatch.now()
            checkpointProblem = nil
        } catch {
            checkpointProblem = "checkpoint unreadable (\(error.description)); retrying"
        }
    }

    /// stats.jsonl gains ~100 bytes per 50 steps; 64 MiB is tens of millions of steps.
    static let largestStats = 64 << 20

    /// Appends the complete lines written since the last poll; a file replaced or shortened (a
    /// resumed run trims it) is read again from its start.
    private func tailStats() {
        guard let stamp = FileStamp(run.statsPath) else { return }
        guard stamp != statsStamp else { return }
        if let old = statsStamp, old.inode != stamp.inode || stamp.size < old.size {
            history = LossHistory()
            statsOffset = 0
            loggedStep = 0
        }
        let bytes: [UInt8]
        do throws(StorageError) {
            bytes = try AtomicFile.read(run.statsPath, maxBytes: Self.largestStats)
        } catch {
            statsProblem = "losses not followed: \(error.description)"
            return
        }
        statsProblem = nil
        statsStamp = stamp
        guard let end = bytes.lastIndex(of: 10), end >= statsOffset else { return }
        let text = String(decoding: bytes[statsOffset...end], as: UTF8.self)
        statsOffset = end + 1
        for line in text.split(separator: "\n") { append(line) }
        lastChange = Stopwatch.now()
    }

    private func append(_ line: Substring) {
        guard let stats = StatsLine(parsing: line), stats.step > loggedStep else { return }
        loggedStep = history.extend(with: stats, after: loggedStep)
        lastLoss = Float(stats.loss)
        if let rate = stats.stepsPerSecond, rate.isFinite { stepsPerSecond = rate }
    }
}

/// Identity and version of a file, from stat: a replaced (renamed-over) file has a new inode.
struct FileStamp: Equatable {
    let inode: UInt64
    let size: Int
    let modified: Int64

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        size = Int(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}

/// Who trains a followed run, as far as this machine can tell.
public enum TrainerPresence: Sendable, Equatable {
    /// A process here holds the run's lock (DIR/.lock).
    case running(pid: Int32)
    /// The lock file is there and nobody here holds it.
    case absent
    /// No lock file or no /proc/locks: the trainer may be on another machine.
    case unknown

    /// Read from /proc/locks, without taking the lock file at `lockPath`.
    static func of(lockPath: String) -> TrainerPresence {
        var info = stat()
        guard stat(lockPath, &info) == 0,
            let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8)
        else { return .unknown }
        let inode = String(info.st_ino)
        for line in table.split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 4242 08:01:123456 0 EOF"
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "FLOCK",
                fields[5].split(separator: ":").last.map(String.init) == inode,
                let pid = Int32(fields[4])
            else { continue }
            return .running(pid: pid)
        }
        return .absent
    }
}
