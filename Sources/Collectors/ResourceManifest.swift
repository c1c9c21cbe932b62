import ChunkStore
import Foundation
import KubeClient

/// Where one object's JSON sits in its type's stream.
public struct ObjectLocation: Codable, Sendable, Equatable {
    public var namespace: String?
    public var name: String
    public var offset: Int64
    public var length: Int
}

/// One resource type's objects: a JSON-lines stream in (namespace, name) order, cut into chunks, plus an index.
public struct ResourceStream: Codable, Sendable {
    public var resource: APIResource
    public var chunks: [ChunkRef]
    public var objects: [ObjectLocation]
    public var bytes: Int64
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
}

public struct CollectionSummary: Codable, Sendable, Equatable {
    public var resourceTypes: Int
    public var objects: Int
    public var bytes: Int64
    public var newStoredBytes: Int64
    public var newChunks: Int
    public var reusedChunks: Int
    public var seconds: Double
    public var warnings: Int
}
