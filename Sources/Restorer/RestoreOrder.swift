import KubeClient

/// The order a restore applies resource types in: CRDs first (then wait until they are served), namespaces, then
/// Velero's default priority list, then everything else. Types in one tier are applied together, objects in parallel.
public enum RestoreOrder {
    /// Velero's default priorities, by qualified resource name.
    public static let priorities = [
        "customresourcedefinitions.apiextensions.k8s.io", "namespaces", "storageclasses.storage.k8s.io",
        "persistentvolumes", "persistentvolumeclaims", "clusterroles.rbac.authorization.k8s.io",
        "roles.rbac.authorization.k8s.io", "serviceaccounts", "clusterrolebindings.rbac.authorization.k8s.io",
        "rolebindings.rbac.authorization.k8s.io", "secrets", "configmaps", "limitranges",
        "priorityclasses.scheduling.k8s.io", "pods", "replicasets.apps", "endpoints", "services",
    ]

    /// Groups resource types into tiers: one tier per prioritized type, in priority order, then one tier with
    /// every other type.
    public static func tiers(_ resources: [APIResource]) -> [[APIResource]] {
        var prioritized: [[APIResource]] = []
        for name in priorities {
            let matching = resources.filter { $0.qualifiedName == name }
            if !matching.isEmpty { prioritized.append(matching) }
        }
        let rest = resources.filter { !priorities.contains($0.qualifiedName) }
            .sorted { $0.qualifiedName < $1.qualifiedName }
        return rest.isEmpty ? prioritized : prioritized + [rest]
    }
}
