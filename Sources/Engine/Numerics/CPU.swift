import CCPU
import Foundation
@_exported import KernelInterface
import KernelsAVX2
import KernelsAVX512
import KernelsGeneric

/// Which compiled variant of the hot kernels this process runs: the widest the CPU (and the OS)
/// supports, or the one `PFGM_CPU` names (avx512, avx2 or generic), for tests and benchmarks.
public enum CPU {
    /// The variants this binary holds, widest first.
    public static let variants: [any CPUKernels.Type] = [
        KernelsAVX512.Variant.self, KernelsAVX2.Variant.self, KernelsGeneric.Variant.self,
    ]

    /// The variants this CPU can run, widest first (asked once: the CPU does not change).
    public static let supported: [String] = {
        var names = ["generic"]
        #if arch(x86_64)
            if pfgm_cpu_has_avx2_fma() != 0 { names.insert("avx2", at: 0) }
            if pfgm_cpu_has_avx512() != 0 { names.insert("avx512", at: 0) }
        #endif
        return names
    }()

    /// The variants this CPU can run, widest first (for tests that check each one).
    public static var runnable: [any CPUKernels.Type] {
        supported.compactMap { variant(named: $0) }
    }

    /// The environment variable that forces a variant.
    public static let override = "PFGM_CPU"

    /// The choice for this process, or why `PFGM_CPU` cannot be honoured.
    public static let selection: Result<any CPUKernels.Type, SelectionError> = select(
        requested: ProcessInfo.processInfo.environment[override], supported: supported)

    /// The kernels every layer calls: the selection, or the widest supported variant when
    /// `PFGM_CPU` asked for one this CPU lacks (the command line refuses that case before any work;
    /// see `selectionProblem`).
    public static let kernels: any CPUKernels.Type = (try? selection.get()) ?? widest(of: supported)

    /// The running variant's name, as `pfgm --version` and the benchmarks report it.
    public static var name: String { kernels.name }

    /// A one-line reason the requested variant cannot run here, or nil.
    public static var selectionProblem: String? {
        if case .failure(let e) = selection { return e.description }
        return nil
    }

    public struct SelectionError: Error, CustomStringConvertible {
        public let description: String
    }

    static func variant(named name: String) -> (any CPUKernels.Type)? {
        variants.first { $0.name == name }
    }

    /// The first of `supported` this binary holds (the baseline when none is).
    static func widest(of supported: [String]) -> any CPUKernels.Type {
        supported.lazy.compactMap(variant(named:)).first ?? KernelsGeneric.Variant.self
    }

    /// The variant for a PFGM_CPU value (nil or empty: the widest supported).
    public static func select(
        requested: String?, supported: [String]
    ) -> Result<any CPUKernels.Type, SelectionError> {
        let names = variants.map { $0.name }.joined(separator: ", ")
        guard let requested, !requested.isEmpty else { return .success(widest(of: supported)) }
        guard let wanted = variant(named: requested.lowercased()) else {
            return .failure(
                SelectionError(description: "\(override)=\(requested) is not a variant (\(names))"))
        }
        guard supported.contains(wanted.name) else {
            let runs = supported.joined(separator: ", ")
            return .failure(
                SelectionError(
                    description:
                        "\(override)=\(requested): this CPU cannot run it (it runs \(runs))"))
        }
        return .success(wanted)
    }
}
