import ChunkStore
import Foundation
import KubeClient

/// Where one object's JSON sits in its type's stream.
public struct ObjectLocation: Codable, Sendable, Equatable {
    public var namespace: String?
    public var name: String
    public var offset: Int64
    public var length: Int

    public init(namespace: String? = nil, name: String, offset: Int64, length: Int) {
        self.namespace = namespace
        self.name = name
        self.offset = offset
        self.length = length
    }
}

/// One resource type's objects: a JSON-lines stream in (namespace, name) order, cut into chunks, plus an index.
public struct ResourceStream: Codable, Sendable {
    public var resource: APIResource
    public var chunks: [ChunkRef]
    public var objects: [ObjectLocation]
    public var bytes: Int64

    public init(resource: APIResource, chunks: [ChunkRef], objects: [ObjectLocation], bytes: Int64) {
        self.resource = resource
        self.chunks = chunks
        self.objects = objects
        self.bytes = bytes
    }
}

/// Everything a resource collection stored; itself kept as a blob, named by a small record.
public struct ResourceManifest: Codable, Sendable {
    public var name: String
    public var server: String
    public var startedAt: Date
    public var completedAt: Date
    public var filter: ResourceFilter
    public var streams: [ResourceStream]
    public var warnings: [String]

    public init(
        name: String, server: String, startedAt: Date, completedAt: Date, filter: ResourceFilter,
        streams: [ResourceStream], warnings: [String]
    ) {
        self.name = name
        self.server = server
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.filter = filter
        self.streams = streams
        self.warnings = warnings
    }

    public var objectCount: Int { streams.reduce(0) { $0 + $1.objects.count } }
    public var bytes: Int64 { streams.reduce(0) { $0 + $1.bytes } }
}

/// The committed record of a collection (`resource-manifests/<name>.json`): the manifest blob and a summary.
public struct ResourceManifestRecord: Codable, Sendable {
    public static func key(_ name: String) -> String { "resource-manifests/\(name).json" }

    public var name: String
    public var manifest: [ChunkRef]
    public var summary: CollectionSummary
    /// The commit of the backup that made it; nil in records written before commits had identities.
    public var commit: String?

    public init(name: String, manifest: [ChunkRef], summary: CollectionSummary, commit: String? = nil) {
        self.name = name
        self.manifest = manifest
        self.summary = summary
        self.commit = commit
    }
}

/// What one resource collection stored and how long it took.
public struct CollectionSummary: Codable, Sendable, Equatable {
    public var resourceTypes: Int
    public var objects: Int
    public var bytes: Int64
    public var newStoredBytes: Int64
    public var newChunks: Int
    public var reusedChunks: Int
    public var seconds: Double
    public var warnings: Int

    public init(
        resourceTypes: Int, objects: Int, bytes: Int64, newStoredBytes: Int64, newChunks: Int, reusedChunks: Int,
        seconds: Double, warnings: Int
    ) {
        self.resourceTypes = resourceTypes
        self.objects = objects
        self.bytes = bytes
        self.newStoredBytes = newStoredBytes
        self.newChunks = newChunks
        self.reusedChunks = reusedChunks
        self.seconds = seconds
        self.warnings = warnings
    }
}
