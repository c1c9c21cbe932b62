import BackupModel
import ChunkStore
import Foundation

/// Reads collected objects back: a whole type's stream, or single objects by reading only the chunks they span.
public struct ResourceReader: Sendable {
    public let repository: Repository

    public init(repository: Repository) { self.repository = repository }

    /// Loads a committed manifest by name.
    public func manifest(named name: String) async throws -> ResourceManifest {
        guard
            let record = try await repository.record(ResourceManifestRecord.self, key: ResourceManifestRecord.key(name))
        else {
            throw ChunkStoreError.snapshotNotFound(name: name, store: repository.store.location)
        }
        return try StoreJSON.decode(
            ResourceManifest.self, from: try await repository.readBlob(record.manifest),
            key: ResourceManifestRecord.key(name))
    }

    /// Every object of a stream, in order.
    public func objects(in stream: ResourceStream) async throws -> [[UInt8]] {
        let bytes = try await repository.readBlob(stream.chunks)
        return stream.objects.map { Array(bytes[Int($0.offset)..<Int($0.offset) + $0.length]) }
    }

    /// Every object of several streams, each stream's in order, read `width` streams at a time: on an object store
    /// each stream is a round trip or more, and a restore reads dozens of them before it applies anything.
    public func objects(in streams: [ResourceStream], width: Int = 8) async throws -> [[[UInt8]]] {
        try await withThrowingTaskGroup(of: (Int, [[UInt8]]).self) { group in
            var results = [[[UInt8]]](repeating: [], count: streams.count)
            for (index, stream) in streams.enumerated() {
                if index >= width, let (done, objects) = try await group.next() { results[done] = objects }
                group.addTask { (index, try await objects(in: stream)) }
            }
            for try await (done, objects) in group { results[done] = objects }
            return results
        }
    }

    /// One object, fetching only the chunks that hold its bytes.
    public func object(_ location: ObjectLocation, in stream: ResourceStream) async throws -> [UInt8] {
        var start: Int64 = 0
        var covering: [ChunkRef] = []
        var firstStart: Int64 = 0
        let end = location.offset + Int64(location.length)
        for chunk in stream.chunks {
            let chunkEnd = start + Int64(chunk.length)
            if chunkEnd > location.offset && start < end {
                if covering.isEmpty { firstStart = start }
                covering.append(chunk)
            }
            start = chunkEnd
            if start >= end { break }
        }
        let bytes = try await repository.readBlob(covering)
        let from = Int(location.offset - firstStart)
        return Array(bytes[from..<from + location.length])
    }
}
