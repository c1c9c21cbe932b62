// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live apart so `swift build` and `swift test` of the main package stay lean.
let package = Package(
    name: "velero-cas-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "velero-cas", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Child processes the benchmarks start (kube-sim) and their errors.
        .target(
            name: "BenchmarkSupport",
            dependencies: [
                .product(name: "ChunkStore", package: "velero-cas"), .product(name: "SystemIO", package: "velero-cas"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "StoreBenchmark",
            dependencies: [
                .product(name: "ChunkStore", package: "velero-cas"),
                .product(name: "SampleData", package: "velero-cas"),
                .product(name: "SystemIO", package: "velero-cas"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "CollectorBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ChunkStore", package: "velero-cas"),
                .product(name: "BackupModel", package: "velero-cas"),
                .product(name: "Collectors", package: "velero-cas"),
                .product(name: "HTTPTransport", package: "velero-cas"),
                .product(name: "KubeClient", package: "velero-cas"),
                .product(name: "SystemIO", package: "velero-cas"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "IndexBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ChunkStore", package: "velero-cas"),
                .product(name: "SystemIO", package: "velero-cas"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "GCBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ChunkStore", package: "velero-cas"),
                .product(name: "BackupModel", package: "velero-cas"),
                .product(name: "Collectors", package: "velero-cas"),
                .product(name: "GarbageCollector", package: "velero-cas"),
                .product(name: "SampleData", package: "velero-cas"),
                .product(name: "SystemIO", package: "velero-cas"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // A backup through the server (Backup object, controller, status writes) against the same backup run in
        // process, both with the velero-cas binary as users run it.
        .executableTarget(
            name: "ServerBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "KubeClient", package: "velero-cas"),
                .product(name: "VeleroAPI", package: "velero-cas"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "RestoreBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ChunkStore", package: "velero-cas"),
                .product(name: "HTTPTransport", package: "velero-cas"),
                .product(name: "BackupModel", package: "velero-cas"),
                .product(name: "Collectors", package: "velero-cas"),
                .product(name: "KubeClient", package: "velero-cas"),
                .product(name: "Restorer", package: "velero-cas"),
                .product(name: "SystemIO", package: "velero-cas"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Node agent processes against kube-sim: one agent against the machine limit, and scale-out over 1, 2, 4
        // agents each reading through a throttle that stands in for a node's disk.
        .executableTarget(
            name: "NodeAgentBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ChunkStore", package: "velero-cas"),
                .product(name: "KubeClient", package: "velero-cas"),
                .product(name: "SampleData", package: "velero-cas"),
                .product(name: "SystemIO", package: "velero-cas"),
                .product(name: "VeleroAPI", package: "velero-cas"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
