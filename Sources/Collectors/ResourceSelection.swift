import BackupModel
import KubeClient

/// A filter resolved against what the cluster serves: which resource types to list, in which namespaces.
public struct ResourceSelection: Sendable {
    public enum Namespaces: Sendable, Equatable {
        case all(excluding: [String])
        case only([String])
    }

    public var namespaced: [APIResource]
    public var clusterScoped: [APIResource]
    public var namespaces: Namespaces
    /// Old style with includeClusterResources unset and namespaces restricted: only cluster objects related to
    /// backed-up ones (PVs of claims, CRDs of custom resources) are added.
    public var relatedClusterResourcesOnly: Bool
    public var warnings: [String]

    /// Resources never backed up: they describe the cluster, not the workload, or are velero-cas's own.
    static let neverBackedUp: Set<String> = [
        "nodes", "events", "events.events.k8s.io", "componentstatuses", "bindings",
    ]

    public static func resolve(_ filter: ResourceFilter, discovered: [APIResource], existingNamespaces: [String])
        throws(FilterError) -> ResourceSelection
    {
        try filter.validate()
        let listable = discovered.filter { $0.isListable && !neverBackedUp.contains($0.qualifiedName) }
        func resolveNames(_ names: [String]) throws(FilterError) -> Set<APIResource>? {
            if names.isEmpty || names.contains("*") { return nil }
            var result: Set<APIResource> = []
            for name in names {
                let matches = discovered.filter { $0.matches(name) }
                guard !matches.isEmpty else {
                    let suggestion = discovered.first { $0.name.hasPrefix(name.lowercased().prefix(3)) }?.qualifiedName
                    throw .unknownResource(name, suggestion: suggestion)
                }
                result.formUnion(matches)
            }
            return result
        }
        func select(_ candidates: [APIResource], include: [String], exclude: [String]) throws(FilterError)
            -> [APIResource]
        {
            let included = try resolveNames(include)
            let excluded = try resolveNames(exclude) ?? []
            return candidates.filter { (included?.contains($0) ?? true) && !excluded.contains($0) }
        }

        var warnings: [String] = []
        let namespaces: Namespaces
        let restricted = !filter.includeNamespaces.isEmpty && !filter.includeNamespaces.contains("*")
        if restricted {
            var selected: [String] = []
            for pattern in filter.includeNamespaces {
                let hits = existingNamespaces.filter { NamespacePattern.matches(pattern, $0) }
                if hits.isEmpty { warnings.append("namespace '\(pattern)' does not exist in the cluster") }
                selected += hits
            }
            let kept = Set(selected).filter { name in
                !filter.excludeNamespaces.contains { NamespacePattern.matches($0, name) }
            }
            namespaces = .only(kept.sorted())
        } else {
            namespaces = .all(excluding: filter.excludeNamespaces)
        }

        let namespacedCandidates = listable.filter(\.namespaced)
        let clusterCandidates = listable.filter { !$0.namespaced }
        var selection = ResourceSelection(
            namespaced: [], clusterScoped: [], namespaces: namespaces, relatedClusterResourcesOnly: false,
            warnings: warnings)
        if filter.usesNewStyle {
            selection.namespaced = try select(
                namespacedCandidates, include: filter.includeNamespaceScopedResources,
                exclude: filter.excludeNamespaceScopedResources)
            selection.clusterScoped =
                filter.includeClusterScopedResources.isEmpty
                ? []
                : try select(
                    clusterCandidates, include: filter.includeClusterScopedResources,
                    exclude: filter.excludeClusterScopedResources)
        } else {
            selection.namespaced = try select(
                namespacedCandidates, include: filter.includeResources, exclude: filter.excludeResources)
            let clusterSelected = try select(
                clusterCandidates, include: filter.includeResources, exclude: filter.excludeResources)
            switch filter.includeClusterResources {
            case true?: selection.clusterScoped = clusterSelected
            case false?: selection.clusterScoped = []
            case nil:
                if restricted {
                    selection.relatedClusterResourcesOnly = true
                    selection.clusterScoped = clusterSelected.filter {
                        $0.name == "persistentvolumes" || $0.name == "customresourcedefinitions"
                    }
                } else {
                    selection.clusterScoped = clusterSelected
                }
            }
        }
        // "namespaces" is cluster-scoped but belongs with the namespaces it names.
        if let namespaceResource = listable.first(where: { $0.group.isEmpty && $0.name == "namespaces" }),
            !selection.clusterScoped.contains(namespaceResource),
            (try resolveNames(filter.usesNewStyle ? filter.excludeNamespaceScopedResources : filter.excludeResources))?
                .contains(namespaceResource) != true
        {
            selection.clusterScoped.append(namespaceResource)
        }
        return selection
    }
}
