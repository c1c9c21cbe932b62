// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "velero-cas",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "velero-cas", targets: ["velero-cas"]),
        .library(name: "ChunkStore", targets: ["ChunkStore"]),
        .library(name: "SampleData", targets: ["SampleData"]),
        .library(name: "SystemIO", targets: ["SystemIO"]),
        .library(name: "HTTPTransport", targets: ["HTTPTransport"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "KubeSim", targets: ["KubeSim"]),
        .library(name: "BackupModel", targets: ["BackupModel"]),
        .library(name: "Collectors", targets: ["Collectors"]),
        .library(name: "Restorer", targets: ["Restorer"]),
        .library(name: "GarbageCollector", targets: ["GarbageCollector"]),
        .library(name: "VeleroAPI", targets: ["VeleroAPI"]),
        .library(name: "Operations", targets: ["Operations"]),
        .library(name: "VeleroServer", targets: ["VeleroServer"]),
        .executable(name: "kube-sim", targets: ["kube-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries, each behind a prefixed shim header.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // gzip for Velero-format tarballs (libcurl links zlib already).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSystemShims"),

        // Syscalls and the blocking-work thread pool, wrapped in one place.
        .target(name: "SystemIO", dependencies: ["CSystemShims"], swiftSettings: strict),
        // HTTP over libcurl, driven by one thread so nothing blocks the cooperative pool.
        .target(
            name: "HTTPTransport",
            dependencies: ["CCurl", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "ChunkStore",
            dependencies: [
                "CLZ4", "COpenSSL", "SystemIO", "HTTPTransport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Kubernetes API client: kubeconfig, auth, REST, discovery, watch, over the shared transport.
        .target(
            name: "KubeClient",
            dependencies: [
                "HTTPTransport", "SystemIO",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // An in-memory Kubernetes API server for tests, the demo and benchmarks.
        .target(
            name: "KubeSim",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "kube-sim",
            dependencies: ["KubeSim", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // The records and manifests every part shares: backups, restores, volumes, hooks, resource manifests, filters.
        .target(name: "BackupModel", dependencies: ["ChunkStore", "KubeClient"], swiftSettings: strict),
        // Discovery, filters and parallel resource collection into the chunk store.
        .target(
            name: "Collectors",
            dependencies: [
                "BackupModel", "KubeClient", "ChunkStore", "CZlib", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Restore planning, object transforms and tiered parallel apply.
        .target(
            name: "Restorer",
            dependencies: [
                "BackupModel", "Collectors", "KubeClient", "ChunkStore", "SystemIO",
                .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // Store locks, reference counts, TTL expiry and chunk collection.
        .target(
            name: "GarbageCollector",
            dependencies: ["ChunkStore", "BackupModel", "SystemIO", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Velero's velero.io/v1 kinds (Backup, Restore, Schedule, BackupStorageLocation, DeleteBackupRequest) and
        // their CRDs.
        .target(
            name: "VeleroAPI", dependencies: ["KubeClient", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        // The backup and restore workflows, shared by the CLI's local mode and the server's controllers.
        .target(
            name: "Operations",
            dependencies: [
                "BackupModel", "Collectors", "Restorer", "ChunkStore", "KubeClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // A small HTTP server for /metrics, /healthz and /readyz.
        .target(
            name: "ServerEndpoints",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // `velero-cas server`: controllers on Velero's objects.
        .target(
            name: "VeleroServer",
            dependencies: [
                "VeleroAPI", "Operations", "KubeClient", "BackupModel", "Collectors", "Restorer", "GarbageCollector",
                "ChunkStore",
                "HTTPTransport", "SystemIO", "ServerEndpoints", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // Reproducible volume-like data for the demo, the tests and the benchmarks.
        .target(name: "SampleData", dependencies: ["SystemIO"], swiftSettings: strict),
        .executableTarget(
            name: "velero-cas",
            dependencies: [
                "ChunkStore", "SystemIO", "SampleData", "KubeClient", "BackupModel", "Collectors", "Restorer",
                "GarbageCollector", "VeleroAPI", "Operations", "VeleroServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),

        .target(
            name: "TestSupport", dependencies: ["SystemIO", "ChunkStore", "HTTPTransport", "SampleData"],
            path: "Tests/TestSupport",
            swiftSettings: strict),
        .testTarget(name: "SystemIOTests", dependencies: ["SystemIO", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "ChunkStoreTests",
            dependencies: ["ChunkStore", "SystemIO", "HTTPTransport", "SampleData", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KubeSimTests", dependencies: ["KubeSim", "HTTPTransport", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "KubeClientTests", dependencies: ["KubeClient", "KubeSim", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "BackupModelTests",
            dependencies: [
                "BackupModel", "GarbageCollector", "Operations", "Restorer", "Collectors", "ChunkStore", "KubeClient",
                "KubeSim", "TestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CollectorsTests",
            dependencies: ["BackupModel", "Collectors", "KubeClient", "KubeSim", "ChunkStore", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RestorerTests",
            dependencies: [
                "BackupModel", "Restorer", "Collectors", "KubeClient", "KubeSim", "ChunkStore", "SampleData",
                "TestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GarbageCollectorTests",
            dependencies: [
                "GarbageCollector", "BackupModel", "ChunkStore", "Collectors", "SampleData", "TestSupport",
                "KubeClient",
                "KubeSim",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VeleroServerTests",
            dependencies: [
                "VeleroServer", "VeleroAPI", "Operations", "KubeClient", "KubeSim", "ChunkStore", "BackupModel",
                "Collectors", "Restorer", "TestSupport", "HTTPTransport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VeleroCASCLITests",
            dependencies: [
                "velero-cas", "SystemIO", "KubeSim", "KubeClient", "VeleroAPI", "TestSupport", "HTTPTransport",
            ],
            swiftSettings: strict
        ),
    ]
)
