/// One kind of object the simulator serves: built in, or added by a CustomResourceDefinition.
public struct ResourceType: Sendable, Hashable {
    /// "" for the core group.
    public var group: String
    /// Served versions, preferred first. Objects are stored once and served unchanged in every version.
    public var versions: [String]
    /// The plural, lower-case resource name used in paths, e.g. "deployments".
    public var resource: String
    public var singular: String
    public var kind: String
    public var listKind: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    public var verbs: [String]
    /// Custom resources keep `kind`/`apiVersion` on list items, as the real server does.
    public var isCustom: Bool

    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    public init(
        group: String, versions: [String], resource: String, singular: String, kind: String, namespaced: Bool,
        shortNames: [String] = [], categories: [String] = [], verbs: [String] = ResourceType.allVerbs,
        isCustom: Bool = false, listKind: String? = nil
    ) {
        self.group = group
        self.versions = versions
        self.resource = resource
        self.singular = singular
        self.kind = kind
        self.listKind = listKind ?? kind + "List"
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.verbs = verbs
        self.isCustom = isCustom
    }

    /// "resource.group", or just "resource" in the core group: the key objects are stored under.
    public var key: String { group.isEmpty ? resource : resource + "." + group }

    public var preferredVersion: String { versions.first ?? "v1" }

    /// "v1" or "apps/v1".
    public func apiVersion(_ version: String? = nil) -> String {
        let version = version ?? preferredVersion
        return group.isEmpty ? version : group + "/" + version
    }

    /// The name validation the real API server applies to this resource's objects.
    var nameRule: NameRule {
        switch (group, resource) {
        case ("", "namespaces"): .dns1123Label
        case ("", "services"): .dns1035Label
        case ("rbac.authorization.k8s.io", _): .pathSegment
        default: .dns1123Subdomain
        }
    }
}

extension ResourceType {
    private static func core(
        _ resource: String, _ singular: String, _ kind: String, namespaced: Bool = true, short: [String] = [],
        categories: [String] = [], verbs: [String] = allVerbs
    ) -> ResourceType {
        ResourceType(
            group: "", versions: ["v1"], resource: resource, singular: singular, kind: kind, namespaced: namespaced,
            shortNames: short, categories: categories, verbs: verbs)
    }

    private static func grouped(
        _ group: String, _ resource: String, _ singular: String, _ kind: String, namespaced: Bool = true,
        short: [String] = [], categories: [String] = []
    ) -> ResourceType {
        ResourceType(
            group: group, versions: ["v1"], resource: resource, singular: singular, kind: kind, namespaced: namespaced,
            shortNames: short, categories: categories)
    }

    static let namespaceVerbs = ["create", "delete", "get", "list", "patch", "update", "watch"]

    /// The built-in resources, in the order the real server lists them within each group.
    public static let builtIn: [ResourceType] = [
        core("configmaps", "configmap", "ConfigMap", short: ["cm"]),
        core("endpoints", "endpoints", "Endpoints", short: ["ep"]),
        core("events", "event", "Event", short: ["ev"]),
        core("limitranges", "limitrange", "LimitRange", short: ["limits"]),
        core("namespaces", "namespace", "Namespace", namespaced: false, short: ["ns"], verbs: namespaceVerbs),
        core("nodes", "node", "Node", namespaced: false, short: ["no"]),
        core("persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", short: ["pvc"]),
        core("persistentvolumes", "persistentvolume", "PersistentVolume", namespaced: false, short: ["pv"]),
        core("pods", "pod", "Pod", short: ["po"], categories: ["all"]),
        core("resourcequotas", "resourcequota", "ResourceQuota", short: ["quota"]),
        core("secrets", "secret", "Secret"),
        core("serviceaccounts", "serviceaccount", "ServiceAccount", short: ["sa"]),
        core("services", "service", "Service", short: ["svc"], categories: ["all"]),
        grouped("apps", "daemonsets", "daemonset", "DaemonSet", short: ["ds"], categories: ["all"]),
        grouped("apps", "deployments", "deployment", "Deployment", short: ["deploy"], categories: ["all"]),
        grouped("apps", "replicasets", "replicaset", "ReplicaSet", short: ["rs"], categories: ["all"]),
        grouped("apps", "statefulsets", "statefulset", "StatefulSet", short: ["sts"], categories: ["all"]),
        grouped("batch", "cronjobs", "cronjob", "CronJob", short: ["cj"], categories: ["all"]),
        grouped("batch", "jobs", "job", "Job", categories: ["all"]),
        grouped("networking.k8s.io", "ingresses", "ingress", "Ingress", short: ["ing"]),
        grouped("networking.k8s.io", "networkpolicies", "networkpolicy", "NetworkPolicy", short: ["netpol"]),
        grouped("policy", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", short: ["pdb"]),
        grouped(
            "rbac.authorization.k8s.io", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding",
            namespaced: false),
        grouped("rbac.authorization.k8s.io", "clusterroles", "clusterrole", "ClusterRole", namespaced: false),
        grouped("rbac.authorization.k8s.io", "rolebindings", "rolebinding", "RoleBinding"),
        grouped("rbac.authorization.k8s.io", "roles", "role", "Role"),
        grouped("storage.k8s.io", "storageclasses", "storageclass", "StorageClass", namespaced: false, short: ["sc"]),
        grouped(
            "scheduling.k8s.io", "priorityclasses", "priorityclass", "PriorityClass", namespaced: false,
            short: ["pc"]),
        // Leader election (client-go's leaselock; velero-cas server --leader-elect).
        grouped("coordination.k8s.io", "leases", "lease", "Lease"),
        grouped(
            "apiextensions.k8s.io", "customresourcedefinitions", "customresourcedefinition",
            "CustomResourceDefinition", namespaced: false, short: ["crd", "crds"]),
    ]

    /// Built-in groups in the order `/apis` lists them.
    static let builtInGroupOrder = [
        "apps", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io",
        "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
    ]
}

/// Kubernetes version strings ordered by priority: GA before beta before alpha, higher numbers first.
enum KubeVersionOrder {
    static func priority(_ version: String) -> (Int, Int, Int) {
        guard version.hasPrefix("v") else { return (0, 0, 0) }
        let body = version.dropFirst()
        let major = Int(body.prefix { $0.isNumber }) ?? 0
        let rest = body.drop { $0.isNumber }
        if rest.isEmpty { return (3, major, 0) }
        if rest.hasPrefix("beta"), let minor = Int(rest.dropFirst(4)) { return (2, major, minor) }
        if rest.hasPrefix("alpha"), let minor = Int(rest.dropFirst(5)) { return (1, major, minor) }
        return (0, 0, 0)
    }

    static func sorted(_ versions: [String]) -> [String] {
        versions.sorted { lhs, rhs in
            let left = priority(lhs)
            let right = priority(rhs)
            return left != right ? left > right : lhs < rhs
        }
    }
}
