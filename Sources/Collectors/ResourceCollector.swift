import BackupModel
import ChunkStore
import Foundation
import KubeClient
import Logging

/// Turns a cluster into a committed resource manifest: discovery, filter resolution, then one collector per resource
/// type running in parallel (bounded by `width`), each with one LIST across all namespaces when all are wanted.
public struct ResourceCollector: Sendable {
    public let client: KubeClient
    public let repository: Repository
    /// Resource types collected at once.
    public var width: Int
    public var pageSize: Int
    /// How namespaced types are listed when many namespaces are wanted.
    public var listing: Listing
    public var progress: CollectionProgress

    public enum Listing: Sendable {
        /// One LIST per type across all namespaces, filtered here (velero-cas).
        case crossNamespace
        /// One LIST per type per namespace, as Velero does; only for comparison in benchmarks.
        case perNamespace
    }
    private let logger = Logger(label: "velero-cas.collector")

    public init(
        client: KubeClient, repository: Repository, width: Int = 8, pageSize: Int = 500,
        listing: Listing = .crossNamespace,
        progress: CollectionProgress = CollectionProgress()
    ) {
        self.client = client
        self.repository = repository
        self.width = max(1, width)
        self.pageSize = pageSize
        self.listing = listing
        self.progress = progress
    }

    /// Collects the objects `filter` selects and commits them as `resource-manifests/<name>.json`, marked with the
    /// commit of the backup they belong to.
    public func collect(name: String, filter: ResourceFilter, commit: String? = nil) async throws -> (
        ResourceManifest, CollectionSummary
    ) {
        // No garbage collection while chunks are being reused (a backup pipeline holds one too; both are shared).
        return try await StoreLock.withLock(.shared, repository: repository, operation: "collect \(name)") {
            try await collectLocked(name: name, filter: filter, commit: commit)
        }
    }

    private func collectLocked(name: String, filter: ResourceFilter, commit: String?) async throws -> (
        ResourceManifest, CollectionSummary
    ) {
        try ResourceName.validate(name, what: "backup name")
        try filter.validate()
        if try await repository.record(ResourceManifestRecord.self, key: ResourceManifestRecord.key(name)) != nil {
            throw CollectorError.alreadyExists(name)
        }
        let started = Date()
        let clock = ContinuousClock.now
        // This collection's own counts: volume snapshots or other backups may share the repository right now.
        let statistics = StoreStatistics()
        let discovered = try await client.discover()
        guard let namespaceResource = discovered.first(where: { $0.group.isEmpty && $0.name == "namespaces" }) else {
            throw CollectorError.discovery("the server does not serve namespaces")
        }
        var existingNamespaces: [String] = []
        try await client.listAll(namespaceResource, pageSize: 1000) { existingNamespaces += $0.map(\.name) }
        let selection = try ResourceSelection.resolve(
            filter, discovered: discovered, existingNamespaces: existingNamespaces)
        for warning in selection.warnings { logger.warning("\(warning)") }

        let orSelectors = try filter.orLabelSelectors.map { try LabelSelector(parsing: $0) }
        let namespaceAllowed: @Sendable (String?) -> Bool
        let perNamespaceLists: [String]?
        switch selection.namespaces {
        case .all(let excluding):
            namespaceAllowed = { namespace in !excluding.contains { NamespacePattern.matches($0, namespace ?? "") } }
            perNamespaceLists =
                listing == .perNamespace
                ? Self.namespaceNames(selection.namespaces, existing: existingNamespaces).sorted() : nil
        case .only(let names):
            let allowed = Set(names)
            namespaceAllowed = { allowed.contains($0 ?? "") }
            // A few namespaces: one LIST each. Many: one LIST for all, filtered here (never one per namespace per type).
            perNamespaceLists = names.count <= 8 || listing == .perNamespace ? names : nil
        }
        let scopedTypes = selection.namespaced.map { resource in
            (
                resource,
                TypeCollector.Scope(
                    listNamespaces: perNamespaceLists, namespaceAllowed: namespaceAllowed, names: nil,
                    labelSelector: filter.labelSelector, orSelectors: orSelectors)
            )
        }
        let related: Set<String> =
            selection.relatedClusterResourcesOnly ? ["persistentvolumes", "customresourcedefinitions"] : []
        let clusterTypes = selection.clusterScoped.filter { !related.contains($0.name) }.map { resource in
            let isNamespaceList = resource.group.isEmpty && resource.name == "namespaces"
            return (
                resource,
                TypeCollector.Scope(
                    listNamespaces: nil, namespaceAllowed: { _ in true },
                    names: isNamespaceList
                        ? Self.namespaceNames(selection.namespaces, existing: existingNamespaces) : nil,
                    labelSelector: isNamespaceList ? nil : filter.labelSelector,
                    orSelectors: isNamespaceList ? [] : orSelectors)
            )
        }
        progress.setTotalTypes(scopedTypes.count + clusterTypes.count)
        let reporter = Task { [progress, logger] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                if Task.isCancelled { break }
                logger.info("\(progress.line(since: clock))")
            }
        }
        defer { reporter.cancel() }
        var (streams, claimed) = try await run(scopedTypes + clusterTypes, statistics: statistics)

        // Cluster objects that belong to what was collected: the PVs of claims and the CRDs of custom resources.
        if filter.includeClusterResources != false {
            let crdNames = Set(
                streams.filter { !$0.objects.isEmpty && !Self.builtInGroups.contains($0.resource.group) }
                    .map { $0.resource.qualifiedName })
            var relatedTypes: [(APIResource, TypeCollector.Scope)] = []
            for resource in discovered
            where resource.group.isEmpty && resource.name == "persistentvolumes"
                || resource.group == "apiextensions.k8s.io" && resource.name == "customresourcedefinitions"
            {
                let names = resource.name == "persistentvolumes" ? claimed : crdNames
                let alreadyWhole = streams.contains { $0.resource == resource }
                guard !names.isEmpty, !alreadyWhole else { continue }
                relatedTypes.append(
                    (
                        resource,
                        TypeCollector.Scope(
                            listNamespaces: nil, namespaceAllowed: { _ in true }, names: names, labelSelector: nil,
                            orSelectors: [])
                    ))
            }
            if !relatedTypes.isEmpty {
                progress.setTotalTypes(progress.totalTypes + relatedTypes.count)
                streams += try await run(relatedTypes, statistics: statistics).0
            }
        }
        streams.sort { $0.resource.qualifiedName < $1.resource.qualifiedName }

        let manifest = ResourceManifest(
            name: name, server: client.configuration.server, startedAt: started, completedAt: Date(), filter: filter,
            streams: streams, warnings: selection.warnings)
        // Counted before the manifest is stored: the summary speaks of the cluster's data, not of this record.
        let after = statistics.current
        let manifestChunks = try await repository.putBlob(try StoreJSON.encode(manifest, pretty: false))
        let summary = CollectionSummary(
            resourceTypes: streams.count, objects: manifest.objectCount, bytes: manifest.bytes,
            newStoredBytes: after.newStoredBytes, newChunks: after.newChunks, reusedChunks: after.reusedChunks,
            seconds: Double((ContinuousClock.now - clock) / .milliseconds(1)) / 1000, warnings: selection.warnings.count
        )
        try await repository.commitRecord(
            ResourceManifestRecord(name: name, manifest: manifestChunks, summary: summary, commit: commit),
            key: ResourceManifestRecord.key(name))
        return (manifest, summary)
    }

    /// Runs collectors with at most `width` at once; results come back in submission order.
    private func run(_ work: [(APIResource, TypeCollector.Scope)], statistics: StoreStatistics) async throws
        -> ([ResourceStream], Set<String>)
    {
        try await withThrowingTaskGroup(of: (Int, ResourceStream, Set<String>).self) { group in
            var results = [ResourceStream?](repeating: nil, count: work.count)
            var claimed: Set<String> = []
            var next = 0
            func start() {
                let (resource, scope) = work[next]
                let index = next
                next += 1
                group.addTask { [client, repository, pageSize, progress] in
                    let collector = TypeCollector(
                        resource: resource, client: client, repository: repository, pageSize: pageSize,
                        progress: progress, statistics: statistics)
                    let (stream, volumes) = try await collector.run(scope)
                    if !stream.objects.isEmpty {
                        Logger(label: "velero-cas.collector").info(
                            "collected \(stream.objects.count) \(resource) (\(stream.bytes) bytes, \(stream.chunks.count) chunks)"
                        )
                    }
                    return (index, stream, volumes)
                }
            }
            while next < min(width, work.count) { start() }
            while let (index, stream, volumes) = try await group.next() {
                results[index] = stream
                claimed.formUnion(volumes)
                if next < work.count { start() }
            }
            return (results.map { $0! }, claimed)
        }
    }

    static func namespaceNames(_ namespaces: ResourceSelection.Namespaces, existing: [String]) -> Set<String> {
        switch namespaces {
        case .only(let names): Set(names)
        case .all(let excluding):
            Set(existing.filter { name in !excluding.contains { NamespacePattern.matches($0, name) } })
        }
    }

    /// Groups served by Kubernetes itself; anything else is a custom resource whose CRD travels with it.
    public static let builtInGroups: Set<String> = [
        "", "apps", "batch", "autoscaling", "policy", "rbac.authorization.k8s.io", "networking.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io",
        "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
        "apiregistration.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
    ]
}

/// Why a collection could not run.
public enum CollectorError: Error, CustomStringConvertible, Sendable {
    case alreadyExists(String)
    case discovery(String)

    public var description: String {
        switch self {
        case .alreadyExists(let name): "a backup named '\(name)' already exists in the store"
        case .discovery(let reason): "API discovery failed: \(reason)"
        }
    }
}
