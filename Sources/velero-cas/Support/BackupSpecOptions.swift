import ArgumentParser
import BackupModel
import Collectors
import KubeClient
import VeleroAPI
import VeleroServer

/// What a backup takes: the flags `backup create` and `schedule create` share (Velero's names), turned into the
/// in-process request's filter or into a Backup spec for the server.
struct BackupSpecOptions: ParsableArguments {
    @Option(help: "Namespaces to include, comma-separated or repeated ('*' or globs like prod-*); default all.")
    var includeNamespaces: [String] = []
    @Option(help: "Namespaces to exclude, comma-separated or repeated.") var excludeNamespaces: [String] = []
    @Option(help: "Resources to include (names, short names, kinds, resource.group), comma-separated or repeated.")
    var includeResources: [String] = []
    @Option(help: "Resources to exclude, comma-separated or repeated.") var excludeResources: [String] = []
    @Option(help: "Cluster-scoped resources to include (new-style filter).")
    var includeClusterScopedResources: [String] = []
    @Option(help: "Cluster-scoped resources to exclude (new-style filter).")
    var excludeClusterScopedResources: [String] = []
    @Option(help: "Namespace-scoped resources to include (new-style filter).")
    var includeNamespaceScopedResources: [String] = []
    @Option(help: "Namespace-scoped resources to exclude (new-style filter).")
    var excludeNamespaceScopedResources: [String] = []
    @Option(help: "Include cluster-scoped resources: true or false (default: only when all namespaces are backed up).")
    var includeClusterResources: Bool?
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Only objects matching this label selector.")
    var selector: String?
    @Option(help: "Objects matching any of these selectors, separated by ' or '.") var orSelector: String?
    @Option(help: "Labels for the backup itself, k=v,k2=v2.") var labels: String?
    @Option(help: "Annotations for the backup itself, k=v,k2=v2.") var annotations: String?
    @Option(help: "How long to keep the backup (Go duration, e.g. 720h; 0 keeps it forever).") var ttl = "720h"
    @Option(help: "Back up the data of reachable persistent volumes: true or false.") var snapshotVolumes = true
    @Option(help: "Volume snapshot locations to record, comma-separated (see 'velero-cas snapshot-location').")
    var volumeSnapshotLocations: String?

    /// The resource filter, validated (clashes, bad selectors and globs are refused naming the flag).
    func filter() throws -> ResourceFilter {
        var filter = ResourceFilter()
        filter.includeNamespaces = commaList(includeNamespaces)
        filter.excludeNamespaces = commaList(excludeNamespaces)
        filter.includeResources = commaList(includeResources)
        filter.excludeResources = commaList(excludeResources)
        filter.includeClusterScopedResources = commaList(includeClusterScopedResources)
        filter.excludeClusterScopedResources = commaList(excludeClusterScopedResources)
        filter.includeNamespaceScopedResources = commaList(includeNamespaceScopedResources)
        filter.excludeNamespaceScopedResources = commaList(excludeNamespaceScopedResources)
        filter.includeClusterResources = includeClusterResources
        filter.labelSelector = selector
        filter.orLabelSelectors = orSelector.map { $0.components(separatedBy: " or ") } ?? []
        try filter.validate()
        return filter
    }

    /// Checks every flag (filters, selectors, labels, annotations, TTL) before anything is contacted, so both
    /// modes refuse bad input alike.
    func check() throws {
        _ = try filter()
        _ = try backupLabels
        _ = try backupAnnotations
        _ = try ttlSeconds
    }

    var backupLabels: [String: String] { get throws { try keyValues(labels, flag: "--labels") } }
    var backupAnnotations: [String: String] { get throws { try keyValues(annotations, flag: "--annotations") } }
    var snapshotLocations: [String] { commaList(volumeSnapshotLocations) }

    /// The TTL in seconds (nil: keep forever), refused naming `--ttl` when it is not a Go duration.
    var ttlSeconds: Int? { get throws { try GoDuration.parse(ttl) } }

    /// The spec of a Backup object (or a Schedule's template) with these flags, as Velero's CLI builds it.
    func backupSpec(storageLocation: String?) throws -> Backup.Spec {
        let filter = try filter()
        var spec = Backup.Spec()
        spec.setLists(from: filter)
        spec.includeClusterResources = includeClusterResources
        spec.labelSelector = try filter.labelSelector.map { LabelSelectorSpec(try LabelSelector(parsing: $0)) }
        if !filter.orLabelSelectors.isEmpty {
            spec.orLabelSelectors = try filter.orLabelSelectors.map {
                LabelSelectorSpec(try LabelSelector(parsing: $0))
            }
        }
        spec.snapshotVolumes = snapshotVolumes
        spec.ttl = KubeDuration.format(seconds: try ttlSeconds ?? 0)
        spec.storageLocation = storageLocation
        spec.volumeSnapshotLocations = snapshotLocations.isEmpty ? nil : snapshotLocations
        return spec
    }
}
