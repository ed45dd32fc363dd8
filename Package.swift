// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every target: Swift 6 language mode (strict concurrency) plus the
/// upcoming features Hummingbird itself builds with.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tessera",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
        .executable(name: "tessera-example-hooks", targets: ["tessera-example-hooks"]),
        .library(name: "Tessera", targets: ["Tessera"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Domain and protocol rules: no I/O, no HTTP, no SQL.
        .target(
            name: "TesseraCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                // The metrics API only (contract §12.1); the backend is chosen by the composition root.
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The system OpenSSL 3 libcrypto.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // RSA keys, RS256, SHA-256, CSPRNG, base64url, JWK, JWS. The only user of COpenSSL.
        .target(
            name: "TesseraCrypto",
            dependencies: ["TesseraCore", "COpenSSL"],
            swiftSettings: swiftSettings
        ),
        // Plain-SQL migrations, embedded into the binary.
        .target(
            name: "TesseraMigrations",
            path: "migrations",
            exclude: ["README.md"],
            resources: [.embedInCode("sql"), .embedInCode("postgres")],
            swiftSettings: swiftSettings
        ),
        // GRDB implementation of the storage protocols.
        .target(
            name: "TesseraSQLite",
            dependencies: [
                "TesseraCore", "TesseraMigrations",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // postgres-nio implementation of the storage protocols (contract §10): the database URL,
        // the migrator under an advisory lock, every store.
        .target(
            name: "TesseraPostgres",
            dependencies: [
                "TesseraCore", "TesseraMigrations",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: Hummingbird routes, middleware, error mapping.
        .target(
            name: "TesseraServer",
            dependencies: [
                "TesseraCore",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The OpenAPI document is written in YAML and served as JSON.
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.embedInCode("OpenAPI/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        // Mail (contract §8.5, §8.6): templates, RFC 5322 messages, the file and SMTP
        // transports and the courier that drains the durable queue.
        .target(
            name: "TesseraMail",
            dependencies: [
                "TesseraCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Events and webhooks (contract §9): Standard Webhooks signatures, the SSRF guard, the
        // HTTP client on NIO and the dispatcher that drains the per-user delivery lanes.
        .target(
            name: "TesseraEvents",
            dependencies: [
                "TesseraCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Metrics (contract §12.1): the swift-metrics backend over swift-prometheus, lock-free
        // histograms, process metrics and the text and OpenMetrics expositions.
        .target(
            name: "TesseraMetrics",
            dependencies: [
                "TesseraCore",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Cognito-compatible API (contract §11): the cognito-idp JSON protocol as a
        // translation layer over the core's services.
        .target(
            name: "TesseraCognito",
            dependencies: [
                // TesseraEvents for its outbound HTTP client (one deadline, no redirects), which
                // the lazy migration's upstream calls go through.
                "TesseraCore", "TesseraCrypto", "TesseraEvents",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The library operators import: configuration, the composition root and the CLI.
        .target(
            name: "Tessera",
            dependencies: [
                "TesseraCore", "TesseraCrypto", "TesseraSQLite", "TesseraPostgres", "TesseraMigrations", "TesseraServer", "TesseraMail",
                "TesseraEvents", "TesseraCognito", "TesseraMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tessera",
            dependencies: ["Tessera"],
            swiftSettings: swiftSettings
        ),
        // Contract §7: how an operator embeds Tessera with hooks; also a test fixture.
        .executableTarget(
            name: "tessera-example-hooks",
            // TesseraCrypto for the SHA-256 its migration example checks legacy passwords with.
            dependencies: ["Tessera", "TesseraCrypto"],
            swiftSettings: swiftSettings
        ),
        // Benchmark-only: the raw limits the hot paths are bound by (bcrypt verify, RS256 sign
        // and verify), measured with the server's own code. Used by scripts/bench.
        .executableTarget(
            name: "tessera-bench-limits",
            dependencies: ["TesseraCrypto", "TesseraCore", .product(name: "HummingbirdBcrypt", package: "hummingbird-auth")],
            path: "Benchmarks/Limits",
            swiftSettings: swiftSettings
        ),
        // Test-only: signs JSON claims from stdin with the server's active key, for the
        // interop stage to verify with third-party libraries. Not a product; never shipped.
        .executableTarget(
            name: "tessera-interop-signer",
            dependencies: ["Tessera", "TesseraCore", "TesseraCrypto", .product(name: "Logging", package: "swift-log")],
            path: "Tests/InteropSigner",
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test suites: temporary directories, the built binary.
        .target(
            name: "TesseraTestSupport",
            dependencies: ["TesseraCore"],
            path: "Tests/TesseraTestSupport",
            swiftSettings: swiftSettings
        ),
        // The storage conformance suite: one library of cases run by each backend's tests.
        .target(
            name: "TesseraStorageConformance",
            dependencies: ["TesseraCore"],
            path: "Tests/TesseraStorageConformance",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraCoreTests",
            dependencies: ["TesseraCore", "TesseraTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraCryptoTests",
            dependencies: ["TesseraCrypto", "TesseraCore", "TesseraTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraStorageTests",
            dependencies: [
                "TesseraSQLite", "TesseraCore", "TesseraMigrations", "TesseraTestSupport", "TesseraStorageConformance",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraServerTests",
            dependencies: [
                "Tessera", "TesseraServer", "TesseraCore", "TesseraCrypto", "TesseraSQLite", "TesseraTestSupport", "TesseraEvents",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraMailTests",
            dependencies: [
                "TesseraMail", "TesseraCore", "TesseraCrypto", "TesseraSQLite", "TesseraTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraPostgresTests",
            dependencies: [
                "TesseraPostgres", "TesseraCore", "TesseraMigrations", "TesseraTestSupport", "TesseraStorageConformance",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraEventsTests",
            dependencies: ["TesseraEvents", "TesseraCore", "TesseraCrypto"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraMetricsTests",
            dependencies: ["TesseraMetrics", "TesseraCore", .product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraCognitoTests",
            dependencies: ["TesseraCognito", "TesseraCore", "TesseraCrypto"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraCLITests",
            dependencies: ["Tessera", "TesseraCore", "TesseraCrypto", "TesseraTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
