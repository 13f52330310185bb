// swift-tools-version:6.2
// 6.2: the sources use InlineArray and value generics.
import PackageDescription

/// The hot kernels, compiled once per instruction set from the same sources (Sources/Kernels; the
/// variant folders link to it). The engine picks one at run time (`CPU` in Engine), so the binary
/// runs on any CPU of its architecture and never depends on the machine that built it.
let kernelVariants: [(name: String, flags: [String], defines: [String])] = {
    #if arch(x86_64)
        return [
            ("AVX512", ["-mavx2", "-mfma", "-mavx512f", "-mavx512vl"], ["AVX512", "FMA"]),
            ("AVX2", ["-mavx2", "-mfma"], ["FMA"]),
            ("Generic", [], []),
        ]
    #else
        // Elsewhere (arm64: NEON) every variant is the baseline; `CPU` runs the generic one.
        return [("AVX512", [], []), ("AVX2", [], []), ("Generic", [], [])]
    #endif
}()

let kernelTargets: [Target] = kernelVariants.map { v in
    .target(
        name: "Kernels\(v.name)", dependencies: ["KernelInterface"],
        swiftSettings: v.defines.map { .define($0) }
            + (v.flags.isEmpty ? [] : [.unsafeFlags(v.flags.flatMap { ["-Xcc", $0] })])
    )
}

let package = Package(
    name: "pfgm",
    products: [
        .executable(name: "pfgm", targets: ["pfgm"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: kernelTargets + [
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "CCPU"),
        .target(name: "KernelInterface"),
        .target(
            name: "Engine",
            dependencies: ["CBLAS", "CZlib", "CCPU", "KernelInterface"]
                + kernelVariants.map { .target(name: "Kernels\($0.name)") }
        ),
        .target(name: "TUI", dependencies: ["CNcurses", "Engine"]),
        .executableTarget(
            name: "pfgm",
            dependencies: [
                "Engine", "TUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "EngineTests", dependencies: ["Engine", "CZlib", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Engine", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Engine", "TUI", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
