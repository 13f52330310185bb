// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The element-wise kernels use AVX2 and FMA, and the convolutions AVX-512, when the machine that builds has
/// them (the build is for this machine).
let vectorFlags: [SwiftSetting] = {
    guard let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    let names = Set(flags.split(separator: " ").map(String.init))
    guard names.contains("avx2") && names.contains("fma") else { return [] }
    let avx2: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma"]), .define("FMA")]
    guard names.contains("avx512f") && names.contains("avx512vl") else { return avx2 }
    return avx2 + [.unsafeFlags(["-Xcc", "-mavx512f", "-Xcc", "-mavx512vl"]), .define("AVX512")]
}()

let package = Package(
    name: "pfgm",
    products: [
        .executable(name: "pfgm", targets: ["pfgm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "Engine", dependencies: ["CBLAS", "CZlib"], swiftSettings: vectorFlags),
        .target(name: "TUI", dependencies: ["CNcurses", "Engine"]),
        .executableTarget(
            name: "pfgm",
            dependencies: [
                "Engine", "TUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "CZlib"], exclude: ["Fixtures"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Engine"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Engine"]),
    ],
    swiftLanguageModes: [.v6]
)
