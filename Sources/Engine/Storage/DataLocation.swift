import Foundation

/// Where a run's data file lies. A run records it twice, so that it finds its data from any folder:
/// the absolute path (`data`), which holds when only the run moves, and the path from the run's own
/// folder (`data_from_run`), which holds when the run and its data move together. Built-in names
/// are kept as they are.
public enum DataLocation {
    /// The absolute form of `path`, read against the current folder, with `.` and `..` resolved
    /// lexically.
    public static func absolute(_ path: String) -> String {
        let full =
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in full.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The path of `target` seen from the folder `base` (both made absolute first).
    public static func relative(_ target: String, from base: String) -> String {
        let t = absolute(target).split(separator: "/")
        let b = absolute(base).split(separator: "/")
        var shared = 0
        while shared < min(t.count, b.count) && t[shared] == b[shared] { shared += 1 }
        let up = Array(repeating: "..", count: b.count - shared)
        return (up + t[shared...].map(String.init)).joined(separator: "/")
    }

    /// Whether `spec` names a file rather than a built-in data set.
    public static func isFile(_ spec: String) -> Bool { !Dataset.builtInNames.contains(spec) }

    /// Whether two data specs name the same data: the same built-in name, or the same file.
    public static func same(_ a: String, _ b: String) -> Bool {
        a == b || (isFile(a) && isFile(b) && absolute(a) == absolute(b))
    }

    /// The places to look for a run's data file, in order: the recorded path (absolute, or as typed
    /// by an older run), then the path from the run folder.
    static func candidates(_ config: TrainingConfig, runPath: String) -> [String] {
        var places = [config.data]
        if let fromRun = config.dataFromRun {
            places.append(fromRun.hasPrefix("/") ? fromRun : absolute(runPath) + "/" + fromRun)
        }
        return places
    }
}

extension TrainingConfig {
    /// This config with its data recorded for a run at `runPath`: a file by its absolute path and
    /// by its path from the run folder; a built-in name as it is.
    func locatingData(forRunAt runPath: String) -> TrainingConfig {
        guard DataLocation.isFile(data) else { return self }
        var c = self
        c.data = DataLocation.absolute(data)
        c.dataFromRun = DataLocation.relative(c.data, from: runPath)
        return c
    }
}

extension RunDirectory {
    /// The data spec of this run: `override` (--data) when given, a built-in name, or the first
    /// recorded place of its file that exists.
    public func dataSpec(_ config: TrainingConfig, override: String? = nil) throws(DataError)
        -> String
    {
        if let override { return override }
        guard DataLocation.isFile(config.data) else { return config.data }
        let places = DataLocation.candidates(config, runPath: path)
        if let found = places.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            return found
        }
        let also = places.count > 1 ? " nor at \(places[1])" : ""
        throw DataError(
            "\(config.data): the data of the run in \(path) is not there\(also); "
                + "when it has moved, point at it with --data PATH")
    }

    /// The data this run was trained on, found as `dataSpec` says.
    public func loadData(_ config: TrainingConfig, override: String? = nil) throws(DataError)
        -> Dataset
    {
        try Dataset.load(try dataSpec(config, override: override), dim: config.dim)
    }
}
