import BackupModel
import Collectors
import VeleroAPI

extension Backup.Spec {
    /// The spec's namespace and resource lists (and `includeClusterResources`) as a filter; selectors are not
    /// included (they need validating: see `SpecConversion`).
    public var listFilter: ResourceFilter {
        var filter = ResourceFilter()
        filter.includeNamespaces = includedNamespaces ?? []
        filter.excludeNamespaces = excludedNamespaces ?? []
        filter.includeResources = includedResources ?? []
        filter.excludeResources = excludedResources ?? []
        filter.includeClusterScopedResources = includedClusterScopedResources ?? []
        filter.excludeClusterScopedResources = excludedClusterScopedResources ?? []
        filter.includeNamespaceScopedResources = includedNamespaceScopedResources ?? []
        filter.excludeNamespaceScopedResources = excludedNamespaceScopedResources ?? []
        filter.includeClusterResources = includeClusterResources
        return filter
    }

    /// Sets the namespace and resource lists (empty ones left out, as Velero writes them) and
    /// `includeClusterResources` from `filter`; selectors are left as they are.
    public mutating func setLists(from filter: ResourceFilter) {
        func list(_ values: [String]) -> [String]? { values.isEmpty ? nil : values }
        includedNamespaces = list(filter.includeNamespaces)
        excludedNamespaces = list(filter.excludeNamespaces)
        includedResources = list(filter.includeResources)
        excludedResources = list(filter.excludeResources)
        includedClusterScopedResources = list(filter.includeClusterScopedResources)
        excludedClusterScopedResources = list(filter.excludeClusterScopedResources)
        includedNamespaceScopedResources = list(filter.includeNamespaceScopedResources)
        excludedNamespaceScopedResources = list(filter.excludeNamespaceScopedResources)
        includeClusterResources = filter.includeClusterResources
    }
}
