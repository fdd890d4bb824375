// swift-tools-version:6.1
import PackageDescription

// Swift 6 language mode everywhere: complete strict concurrency checking on every target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Each connector: its adapter (what integrators deploy) and its sandbox (a stand-in for the
/// external system), in Adapters/<Name>/Adapter and Adapters/<Name>/Sandbox. The four built in,
/// then those `govbus new-connector` made (it adds their names here: SwiftPM keeps a manifest's
/// result until its text changes, so a manifest that looked for folders would miss a new one).
let connectors = ["Portal", "Registry", "Payment", "Document"] + [
    // govbus new-connector adds its connectors above this line.
]

/// What both sides of a connector speak HTTP, XML, JSON and SQLite with.
let connectorLibraries: [Target.Dependency] = [
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HTTPTypes", package: "swift-http-types"),
    .product(name: "AsyncHTTPClient", package: "async-http-client"),
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOFoundationCompat", package: "swift-nio"),
    .product(name: "Crypto", package: "swift-crypto"),
    .product(name: "XMLCoder", package: "XMLCoder"),
    .product(name: "GRDB", package: "GRDB.swift"),
    .product(name: "Logging", package: "swift-log"),
]

/// The standards that connectors speak with their systems, one module each, shared by an adapter
/// and its sandbox (Adapters/Protocols/<Name>).
let protocolTargets: [Target] = [
    .target(
        name: "NamespacedXML", path: "Adapters/Protocols/NamespacedXML", swiftSettings: swiftSettings),
    .target(
        name: "EdXML", dependencies: ["NamespacedXML", .product(name: "XMLCoder", package: "XMLCoder")],
        path: "Adapters/Protocols/EdXML", swiftSettings: swiftSettings),
    .target(
        name: "XRoad", dependencies: ["NamespacedXML", .product(name: "XMLCoder", package: "XMLCoder")],
        path: "Adapters/Protocols/XRoad", swiftSettings: swiftSettings),
    .target(
        name: "PortalAPI", dependencies: ["GovBusContracts", .product(name: "Crypto", package: "swift-crypto")],
        path: "Adapters/Protocols/PortalAPI", swiftSettings: swiftSettings),
]
let protocolModules: [Target.Dependency] = ["EdXML", "XRoad", "PortalAPI"]
let adapterTargets: [Target] = connectors.flatMap { name -> [Target] in
    [
        .target(
            name: "\(name)Adapter",
            dependencies: ["GovBusAdapterKit", "GovBusContracts", "GovBusConfiguration", "GovBus"] + protocolModules + connectorLibraries,
            path: "Adapters/\(name)/Adapter",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "\(name)Sandbox",
            dependencies: ["GovBusSandboxKit", "GovBusContracts", "GovBusConfiguration"] + protocolModules + connectorLibraries,
            path: "Adapters/\(name)/Sandbox",
            swiftSettings: swiftSettings
        ),
    ]
}

let connectorDependencies: [Target.Dependency] = connectors.flatMap { name -> [Target.Dependency] in
    [.target(name: "\(name)Adapter"), .target(name: "\(name)Sandbox")]
}

/// What the core's tests build on, unit and integration alike.
let coreTestDependencies: [Target.Dependency] = [
    "GovBusCore", "GovBusContracts", "GovBus", "AMQP", "AMQPTesting",
    "GovBusTelemetry", "GovBusConsole", "GovBusStore", "StoreTesting", "GovBusConfiguration", "CoreTestFixtures",
    .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
    .product(name: "Metrics", package: "swift-metrics"),
    .product(name: "Prometheus", package: "swift-prometheus"),
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HummingbirdTesting", package: "hummingbird"),
    .product(name: "NIOFoundationCompat", package: "swift-nio"),
]
/// What the connectors' tests build on, unit and integration alike.
let adapterTestDependencies: [Target.Dependency] = connectorDependencies + [
    "GovBusAdapterKit", "GovBusSandboxKit", "GovBusContracts", "GovBusCore", "GovBus", "AMQP", "AMQPTesting",
    "GovBusConfiguration", "EdXML", "XRoad", "PortalAPI", "GovBusScaffold", "GovBusTelemetry",
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HummingbirdTesting", package: "hummingbird"),
    .product(name: "XMLCoder", package: "XMLCoder"),
    .product(name: "Crypto", package: "swift-crypto"),
    .product(name: "NIOFoundationCompat", package: "swift-nio"),
]

let package = Package(
    name: "GovBus",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "AMQPTesting", targets: ["AMQPTesting"]),
        .library(name: "GovBus", targets: ["GovBus"]),
        .library(name: "GovBusContracts", targets: ["GovBusContracts"]),
        .library(name: "GovBusCore", targets: ["GovBusCore"]),
        .executable(name: "govbus", targets: ["govbus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.23.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-service-context", from: "1.1.0"),
        // Traces exported over OTLP/HTTP only: the gRPC exporter would add grpc-swift to the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        // The attribute names only (messaging's are still "experimental", hence the exact minor).
        .package(
            url: "https://github.com/swift-otel/swift-otel-semantic-conventions", .upToNextMinor(from: "1.44.0"),
            traits: ["Experimental"]),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/CoreOffice/XMLCoder", from: "0.17.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: protocolTargets + adapterTargets + [
        // rabbitmq-c, found through pkg-config, and the C shim for what Swift cannot call.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GovBus",
            dependencies: ["AMQP", "GovBusContracts", "GovBusConfiguration", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // What every process reads its files with: YAML with line numbers in errors, listen
        // addresses, files of secrets. Adapters, the core and the console share it.
        .target(
            name: "GovBusConfiguration",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Child processes without Foundation's Process: govbus up's children, the benches' programs, the tests'.
        .target(
            name: "GovBusProcesses",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GovBusContracts",
            swiftSettings: swiftSettings
        ),
        // Everything the core and the console keep, on SQLite (one machine) or PostgreSQL (several cores).
        .target(
            name: "GovBusStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GovBusCore",
            dependencies: [
                "AMQP", "GovBus", "GovBusContracts", "GovBusStore", "GovBusConfiguration",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                "GovBusTelemetry",
            ],
            swiftSettings: swiftSettings
        ),
        // What every adapter runs on: connection, inbox, outbox, signing, heartbeat, HTTP side.
        .target(
            name: "GovBusAdapterKit",
            dependencies: [
                "AMQP", "GovBus", "GovBusContracts", "GovBusConfiguration", "GovBusTelemetry",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "OTelSemanticConventions", package: "swift-otel-semantic-conventions"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // govbus console: the operations console and its JSON API.
        .target(
            name: "GovBusConsole",
            dependencies: [
                "AMQP", "GovBus", "GovBusCore", "GovBusContracts", "GovBusStore", "GovBusConfiguration", "GovBusTelemetry",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every sandbox uses: faults on demand, the population the sandboxes agree on.
        .target(
            name: "GovBusSandboxKit",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // /metrics (Prometheus) and /health, served by every process of the bus.
        .target(
            name: "GovBusTelemetry",
            dependencies: [
                "AMQP", "GovBus",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "OTelSemanticConventions", package: "swift-otel-semantic-conventions"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A store on each backend for the tests (not linked into govbus).
        .target(
            name: "StoreTesting",
            dependencies: [
                "GovBusStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the core's tests share, unit and integration (not linked into govbus).
        .target(
            name: "CoreTestFixtures",
            dependencies: [
                "AMQP", "GovBus", "GovBusContracts", "GovBusCore", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AMQPTesting",
            dependencies: ["AMQP", "GovBusProcesses"],
            swiftSettings: swiftSettings
        ),
        // govbus new-connector: the files of a new agency's connector, and the edits of the files that list them.
        .target(
            name: "GovBusScaffold",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GovBusBenchmarks",
            dependencies: [
                "AMQP", "GovBusProcesses", "GovBus", "GovBusCore", "GovBusStore",
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "govbus",
            dependencies: connectorDependencies + [
                "GovBus",
                "GovBusContracts",
                "GovBusCore",
                "GovBusStore",
                "GovBusBenchmarks",
                "GovBusTelemetry",
                "GovBusAdapterKit",
                "GovBusSandboxKit",
                "GovBusConsole",
                "GovBusConfiguration",
                "GovBusProcesses",
                "GovBusScaffold",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AMQPTests",
            dependencies: ["AMQP", "AMQPTesting"],
            exclude: ["Interop"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovBusTests",
            dependencies: ["GovBus", "GovBusContracts", "AMQP", "AMQPTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovBusCoreTests",
            dependencies: coreTestDependencies,
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovBusStoreTests",
            dependencies: ["GovBusStore", "StoreTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdaptersTests",
            dependencies: adapterTestDependencies,
            swiftSettings: swiftSettings
        ),
        // Unit tests: they need nothing but the build (no broker, no database, no network).
        // `swift test --filter Unit` runs them alone; scripts/test runs them and the others.
        .testTarget(
            name: "AMQPUnitTests",
            dependencies: ["AMQP"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovBusUnitTests",
            dependencies: ["GovBus", "GovBusContracts"],
            exclude: ["JSONSchemaTestSuite"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovBusCoreUnitTests",
            dependencies: coreTestDependencies,
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdaptersUnitTests",
            dependencies: adapterTestDependencies,
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
