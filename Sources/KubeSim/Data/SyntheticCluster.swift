/// A synthetic cluster, deterministic from a seed: namespaces full of objects of 24 namespaced kinds (config maps,
/// secrets and pods most of all; workloads, RBAC, networking, policy and storage objects; four custom resource types
/// in three groups), 1–10 KiB each and labelled app=/tier=, plus cluster-scoped objects (persistent volumes, storage
/// classes, cluster roles and their bindings, priority classes) and the CRDs: 31 resource types in all.
///
/// Bodies are written as bytes directly, so 100,000 objects take a few seconds in a release build.
public enum SyntheticCluster {
    public struct Options: Sendable, Equatable {
        public var namespaces: Int
        /// Namespaced objects per namespace, spread over the namespaced kinds by weight.
        public var objectsPerNamespace: Int
        public var seed: UInt64
        public var minimumObjectBytes: Int
        public var maximumObjectBytes: Int
        /// Persistent volumes, storage classes, cluster roles, cluster role bindings, priority classes.
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

    /// The custom resource types the generator uses (their CRDs are generated too).
    public static let widgetType = ResourceType(
        group: "example.com", versions: ["v1"], resource: "widgets", singular: "widget", kind: "Widget",
        namespaced: true, shortNames: ["wd"], isCustom: true)
    public static let gizmoType = ResourceType(
        group: "example.com", versions: ["v1"], resource: "gizmos", singular: "gizmo", kind: "Gizmo",
        namespaced: true, shortNames: ["gz"], isCustom: true)
    public static let sprocketType = ResourceType(
        group: "tools.example.org", versions: ["v1", "v1beta1"], resource: "sprockets", singular: "sprocket",
        kind: "Sprocket", namespaced: true, shortNames: ["spr"], categories: ["tools"], isCustom: true)
    public static let backupType = ResourceType(
        group: "db.example.net", versions: ["v1alpha1"], resource: "backups", singular: "backup", kind: "Backup",
        namespaced: true, shortNames: ["dbb"], isCustom: true)
    public static let customTypes = [widgetType, gizmoType, sprocketType, backupType]

    static let apps = [
        "analytics", "auth", "billing", "catalog", "checkout", "frontend", "inventory", "notifications", "payments",
        "reports", "search", "shipping",
    ]
    static let tiers = ["backend", "cache", "db", "frontend"]

    /// A namespaced kind: its resource key, its weight among the namespaced objects, and the middle of its objects'
    /// names ("billing-config-3").
    struct Kind: Sendable {
        var key: String
        var weight: Int
        var short: String
    }

    /// The namespaced kinds, weighted roughly like a real cluster: config maps, secrets and pods dominate. Objects are
    /// dealt from a shuffled deck holding each kind `weight` times, so every 61 consecutive objects hold each kind
    /// exactly its weight's number of times (in a seeded random order) and small clusters still get every kind.
    static let namespacedKinds: [Kind] = [
        Kind(key: "pods", weight: 10, short: "pod"),
        Kind(key: "configmaps", weight: 10, short: "config"),
        Kind(key: "secrets", weight: 9, short: "secret"),
        Kind(key: "replicasets.apps", weight: 3, short: "rs"),
        Kind(key: "services", weight: 3, short: "svc"),
        Kind(key: "endpoints", weight: 3, short: "ep"),
        Kind(key: "serviceaccounts", weight: 3, short: "sa"),
        Kind(key: "deployments.apps", weight: 2, short: "deploy"),
        Kind(key: "rolebindings.rbac.authorization.k8s.io", weight: 2, short: "rolebinding"),
        Kind(key: "persistentvolumeclaims", weight: 2, short: "data"),
        Kind(key: "roles.rbac.authorization.k8s.io", weight: 1, short: "role"),
        Kind(key: "statefulsets.apps", weight: 1, short: "sts"),
        Kind(key: "daemonsets.apps", weight: 1, short: "ds"),
        Kind(key: "jobs.batch", weight: 1, short: "job"),
        Kind(key: "cronjobs.batch", weight: 1, short: "cron"),
        Kind(key: "ingresses.networking.k8s.io", weight: 1, short: "ing"),
        Kind(key: "networkpolicies.networking.k8s.io", weight: 1, short: "netpol"),
        Kind(key: "poddisruptionbudgets.policy", weight: 1, short: "pdb"),
        Kind(key: "limitranges", weight: 1, short: "limits"),
        Kind(key: "resourcequotas", weight: 1, short: "quota"),
        Kind(key: "widgets.example.com", weight: 1, short: "widget"),
        Kind(key: "gizmos.example.com", weight: 1, short: "gizmo"),
        Kind(key: "sprockets.tools.example.org", weight: 1, short: "sprocket"),
        Kind(key: "backups.db.example.net", weight: 1, short: "backup"),
    ]

    /// Cluster-scoped objects besides one persistent volume per namespace.
    static let storageClasses = ["standard", "fast-ssd", "archive"]
    static let clusterRoles = 5
    static let priorityClasses: [(name: String, value: Int, globalDefault: Bool, description: String)] = [
        ("critical-services", 1_000_000, false, "Customer-facing services that must not be preempted."),
        ("high-priority", 100_000, false, "Latency-sensitive backends."),
        ("default-priority", 1000, true, "Everything without an explicit priority class."),
        ("batch-low", -10, false, "Batch jobs and reports; preempted first."),
    ]

    /// Generates the objects, grouped by type, with resourceVersions from `firstVersion` on.
    static func generate(_ options: Options, firstVersion: UInt64) -> (
        batches: [(ResourceType, [StoredObject])], summary: Summary
    ) {
        var writer = SyntheticWriter(options: options, firstVersion: firstVersion)
        return writer.run()
    }

    /// How many resourceVersions `generate` uses: one per object.
    static func objectCount(_ options: Options) -> Int {
        let clusterScoped =
            options.clusterScoped
            ? options.namespaces + storageClasses.count + 2 * clusterRoles + priorityClasses.count : 0
        return customTypes.count + options.namespaces + options.namespaces * options.objectsPerNamespace
            + clusterScoped
    }
}
