import CCPU
import Foundation

/// How many cores this process may use: the CPUs of its affinity mask, capped by a cgroup CPU quota
/// where one is set (a container given 2.5 CPUs gets 3 threads). The default for `--threads`
/// everywhere.
public enum Cores {
    public static let available: Int = {
        let mask = affinityCount() ?? ProcessInfo.processInfo.activeProcessorCount
        let read = { (path: String) in try? String(contentsOfFile: path, encoding: .utf8) }
        guard let quota = cgroupQuota(cgroup: read("/proc/self/cgroup") ?? "", read: read) else {
            return max(1, mask)
        }
        return max(1, min(mask, Int(quota.rounded(.up))))
    }()

    /// CPUs in this process's affinity mask (what `taskset` and `nproc` honour).
    public static func affinityCount() -> Int? {
        let n = Int(pfgm_affinity_count())
        return n > 0 ? n : nil
    }

    /// The CPU quota, in CPUs, of the cgroup named in /proc/self/cgroup's `cgroup` text and of its
    /// ancestors (the smallest one); nil when none is set. cgroup v2 reads cpu.max ("max 100000" or
    /// "200000 100000"), v1 cpu.cfs_quota_us over cpu.cfs_period_us (−1: none).
    public static func cgroupQuota(
        cgroup: String, root: String = "/sys/fs/cgroup",
        read: (String) -> String?
    ) -> Double? {
        var quotas: [Double] = []
        for line in cgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1].split(separator: ",")
            let path = String(fields[2])
            if fields[0] == "0" && controllers.isEmpty {
                quotas += ancestors(root, path).compactMap { v2Quota(read("\($0)/cpu.max")) }
            } else if controllers.contains("cpu") {
                for mount in ["\(root)/cpu", "\(root)/cpu,cpuacct", "\(root)/cpuacct,cpu"] {
                    quotas += ancestors(mount, path).compactMap {
                        v1Quota(read("\($0)/cpu.cfs_quota_us"), read("\($0)/cpu.cfs_period_us"))
                    }
                }
            }
        }
        return quotas.min()
    }

    /// The folder of `path` under `mount` and each of its parents up to the mount.
    private static func ancestors(_ mount: String, _ path: String) -> [String] {
        var parts = path.split(separator: "/").map(String.init)
        var dirs = [mount]
        while !parts.isEmpty {
            dirs.append(mount + "/" + parts.joined(separator: "/"))
            parts.removeLast()
        }
        return dirs
    }

    private static func v2Quota(_ text: String?) -> Double? {
        guard let fields = text?.split(whereSeparator: \.isWhitespace), fields.count == 2,
            let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0
        else { return nil }
        return quota / period
    }

    private static func v1Quota(_ quota: String?, _ period: String?) -> Double? {
        guard let q = quota.flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
            let p = period.flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
            q > 0, p > 0
        else { return nil }
        return q / p
    }
}
