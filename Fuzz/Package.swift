// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The main package's identity: the name of the folder that holds it (whatever a clone is called).
let main = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

// libFuzzer targets of GovBus (issue 10), a package of their own so that the main package's
// manifest and build stay untouched. Build and run them with scripts/fuzz, which passes
// `-sanitize=fuzzer` to every Swift module (the GovBus code under test is instrumented too).
//
// Each target defines `LLVMFuzzerTestOneInput` (its `fuzz` function) and its main.swift hands it
// to libFuzzer's driver: SwiftPM links an executable's `main` to the module's own entry point, so
// libFuzzer's `main` (and `-parse-as-library`, which leaves that entry point undefined) cannot be
// used.
let package = Package(
    name: "GovBusFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The main package, by path: its identity is the name of its folder.
        .package(path: "..")
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CLibFuzzer",
                .product(name: "AMQP", package: main),
                .product(name: "GovBus", package: main),
            ]
        ),
        .executableTarget(
            name: "FuzzIngressChecks",
            dependencies: [
                "FuzzSupport",
                .product(name: "AMQP", package: main),
                .product(name: "GovBus", package: main),
                .product(name: "GovBusCore", package: main),
            ]
        ),
        .executableTarget(
            name: "FuzzCanonicalForm",
            dependencies: ["FuzzSupport", .product(name: "AMQP", package: main), .product(name: "GovBus", package: main)]
        ),
        .executableTarget(
            name: "FuzzJSONReader",
            dependencies: ["FuzzSupport", .product(name: "GovBus", package: main)]
        ),
        .executableTarget(
            name: "FuzzValidator",
            dependencies: ["FuzzSupport", .product(name: "GovBus", package: main)]
        ),
    ],
    swiftLanguageModes: [.v6]
)
