// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The element-wise kernels use AVX2 and FMA when the machine that builds has them (the build is for this machine).
let vectorFlags: [SwiftSetting] = {
    guard let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    let names = Set(flags.split(separator: " ").map(String.init))
    return names.contains("avx2") && names.contains("fma") ? [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma"]), .define("FMA")] : []
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
