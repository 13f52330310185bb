// swift-tools-version:6.0
import PackageDescription

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
        .target(name: "Engine", dependencies: ["CBLAS"]),
        .target(name: "TUI", dependencies: ["CNcurses", "Engine"]),
        .executableTarget(
            name: "pfgm",
            dependencies: [
                "Engine", "TUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EngineTests", dependencies: ["Engine"], exclude: ["Fixtures"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Engine"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Engine"]),
    ],
    swiftLanguageModes: [.v6]
)
