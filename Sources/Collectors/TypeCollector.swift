import BackupModel
import ChunkStore
import Foundation
import KubeClient

/// Collects one resource type: lists it (paginated) and streams the selected objects, in (namespace, name) order,
/// into content-defined chunks, recording where each object's bytes are. Its stream state is isolated in the actor.
actor TypeCollector {
    struct Scope: Sendable {
        /// nil = one LIST across all namespaces (or cluster-scoped); otherwise one LIST per namespace, in order.
        var listNamespaces: [String]?
        /// Keep only objects whose namespace passes.
        var namespaceAllowed: @Sendable (String?) -> Bool
        /// Keep only these names (related cluster objects), when set.
        var names: Set<String>?
        var labelSelector: String?
        var orSelectors: [LabelSelector]
    }

    let resource: APIResource
    private let client: KubeClient
    private let writer: BlobWriter
    private let pageSize: Int
    private let progress: CollectionProgress
    private var objects: [ObjectLocation] = []
    /// Objects not yet cut into a chunk.
    private var pendingChunk: [UInt8] = []
    /// spec.volumeName of collected PersistentVolumeClaims, so their volumes can be added.
    private(set) var claimedVolumes: Set<String> = []

    init(
        resource: APIResource, client: KubeClient, repository: Repository, pageSize: Int, progress: CollectionProgress,
        statistics: StoreStatistics
    ) {
        self.resource = resource
        self.client = client
        writer = BlobWriter(
            repository: repository, chunker: repository.resourceChunker, kind: .metadata, statistics: statistics)
        self.pageSize = pageSize
        self.progress = progress
    }

    func run(_ scope: Scope) async throws -> (ResourceStream, Set<String>) {
        let chunks: [ChunkRef]
        do {
            for namespace in scope.listNamespaces.map({ $0.map(Optional.some) }) ?? [nil] {
                try await client.listAll(
                    resource, namespace: namespace, labelSelector: scope.labelSelector, pageSize: pageSize
                ) { page in try await self.add(page, scope: scope) }
            }
            try await writer.appendChunk(pendingChunk)
            pendingChunk = []
            chunks = try await writer.finish()
        } catch {
            // No upload of this type outlives the backup (and its store lock).
            await writer.cancel()
            throw error
        }
        progress.typeDone()
        return (
            ResourceStream(resource: resource, chunks: chunks, objects: objects, bytes: writer.count), claimedVolumes
        )
    }

    private func add(_ page: [KubeObject], scope: Scope) async throws {
        var added = 0
        var bytes = 0
        for object in page where Self.selected(object, scope: scope) {
            objects.append(
                ObjectLocation(
                    namespace: object.namespace, name: object.name, offset: writer.count + Int64(pendingChunk.count),
                    length: object.json.count))
            pendingChunk += object.json
            pendingChunk.append(UInt8(ascii: "\n"))
            if ObjectBoundary.cutsAfter(namespace: object.namespace, name: object.name, pending: pendingChunk.count) {
                try await writer.appendChunk(pendingChunk)
                pendingChunk.removeAll(keepingCapacity: true)
            }
            added += 1
            bytes += object.json.count + 1
            if resource.name == "persistentvolumeclaims", let volume = Self.volumeName(object.json) {
                claimedVolumes.insert(volume)
            }
        }
        progress.add(objects: added, bytes: bytes)
    }

    static func selected(_ object: KubeObject, scope: TypeCollector.Scope) -> Bool {
        let labels = object.metadata.labels ?? [:]
        if object.metadata.deletionTimestamp != nil { return false }
        if labels["velero.io/exclude-from-backup"] == "true" { return false }
        if let names = scope.names, !names.contains(object.name) { return false }
        if !scope.namespaceAllowed(object.namespace) { return false }
        if !scope.orSelectors.isEmpty && !scope.orSelectors.contains(where: { $0.matches(labels) }) { return false }
        return true
    }

    static func volumeName(_ json: [UInt8]) -> String? {
        struct Claim: Decodable {
            struct Spec: Decodable { var volumeName: String? }
            var spec: Spec?
        }
        return (try? JSONDecoder().decode(Claim.self, from: Data(json)))?.spec?.volumeName.flatMap {
            $0.isEmpty ? nil : $0
        }
    }
}
