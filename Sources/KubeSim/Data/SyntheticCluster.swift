/// A synthetic cluster, deterministic from a seed: namespaces full of config maps, secrets, services, deployments,
/// service accounts, pods and Widget custom resources (1–10 KiB each, labelled app=/tier=), plus a few cluster-scoped
/// objects (persistent volumes, storage classes, cluster roles) and the Widget CRD.
///
/// Bodies are written as bytes directly, so 100,000 objects take a few seconds in a release build.
public enum SyntheticCluster {
    public struct Options: Sendable, Equatable {
        public var namespaces: Int
        public var objectsPerNamespace: Int
        public var seed: UInt64
        public var minimumObjectBytes: Int
        public var maximumObjectBytes: Int
        /// Persistent volumes, storage classes, cluster roles.
        public var clusterScoped: Bool

        public init(
            namespaces: Int, objectsPerNamespace: Int, seed: UInt64 = 1, minimumObjectBytes: Int = 1024,
            maximumObjectBytes: Int = 10 * 1024, clusterScoped: Bool = true
        ) {
            self.namespaces = namespaces
            self.objectsPerNamespace = objectsPerNamespace
            self.seed = seed
            self.minimumObjectBytes = minimumObjectBytes
            self.maximumObjectBytes = max(minimumObjectBytes, maximumObjectBytes)
            self.clusterScoped = clusterScoped
        }
    }

    /// What was generated: object counts by resource key ("configmaps", "deployments.apps",
    /// "widgets.example.com", ...) and the total bytes of their bodies.
    public struct Summary: Sendable, Equatable {
        public var counts: [String: Int] = [:]
        public var bytes: Int = 0
        public var namespaceNames: [String] = []
        public var total: Int { counts.values.reduce(0, +) }
    }

    /// The custom resource type the generator uses.
    public static let widgetType = ResourceType(
        group: "example.com", versions: ["v1"], resource: "widgets", singular: "widget", kind: "Widget",
        namespaced: true, shortNames: ["wd"], isCustom: true)

    static let apps = [
        "analytics", "auth", "billing", "catalog", "checkout", "frontend", "inventory", "notifications", "payments",
        "reports", "search", "shipping",
    ]
    static let tiers = ["backend", "cache", "db", "frontend"]

    /// The resource kinds of namespaced objects and their weights.
    static let namespacedKinds: [(key: String, weight: Int)] = [
        ("configmaps", 3), ("secrets", 2), ("services", 1), ("deployments.apps", 1), ("serviceaccounts", 1),
        ("pods", 3), ("widgets.example.com", 1),
    ]

    /// Generates the objects, grouped by type, with resourceVersions from `firstVersion` on.
    static func generate(_ options: Options, firstVersion: UInt64) -> (
        batches: [(ResourceType, [StoredObject])], summary: Summary
    ) {
        var writer = SyntheticWriter(options: options, firstVersion: firstVersion)
        return writer.run()
    }

    /// How many resourceVersions `generate` uses.
    static func objectCount(_ options: Options) -> Int {
        let clusterScoped = options.clusterScoped ? options.namespaces + 3 + 5 : 0
        return 1 + options.namespaces + options.namespaces * options.objectsPerNamespace + clusterScoped
    }
}
