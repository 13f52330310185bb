import CBLAS
import Foundation

/// Facts about the BLAS library and the process, for version lines and benchmarks.
public enum Machine {
    /// The project's version, as `pfgm --version` and reports print it.
    public static let version = "0.1.0"

    /// The kernel variant, the CPU and OpenBLAS's own kernel, as version lines and benchmarks name
    /// them.
    public static var summary: String {
        "kernels \(CPU.name), \(cpuModel), \(Cores.available) cores; OpenBLAS core \(blasCore)"
    }

    /// The CPU's model name (from /proc/cpuinfo), or the architecture when it has none.
    public static let cpuModel: String = {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
        let name = line?.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(
            in: .whitespaces)
        #if arch(x86_64)
            return name ?? "x86-64"
        #else
            return name ?? "arm64"
        #endif
    }()

    /// The kernel OpenBLAS chose (or was told by OPENBLAS_CORETYPE).
    public static var blasCore: String {
        guard let c = openblas_get_corename() else { return "unknown" }
        return String(cString: c).trimmingCharacters(in: .whitespaces)
    }

    public static var blasConfig: String {
        guard let c = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: c).trimmingCharacters(in: .whitespaces)
    }

    /// Peak resident set size of this process in MiB (VmHWM from /proc/self/status).
    public static var peakResidentMegabytes: Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
            return 0
        }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}
