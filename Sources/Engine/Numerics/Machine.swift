import CBLAS
import Foundation

/// Facts about the BLAS library and the process, for version lines and benchmarks.
public enum Machine {
    /// The project's version, as `pfgm --version` and reports print it.
    public static let version = "0.1.0"

    public static var blasConfig: String {
        guard let c = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: c).trimmingCharacters(in: .whitespaces)
    }

    /// Peak resident set size of this process in MiB (VmHWM from /proc/self/status).
    public static var peakResidentMegabytes: Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}
