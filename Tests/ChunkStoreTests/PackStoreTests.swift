import Foundation
import Synchronization
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore

/// Holds pack uploads until released, so a test can look at a pack between its closing and its upload.
final class GatedPackStore: ObjectStore, Sendable {
    let base: any ObjectStore
    /// Uploads let through and not yet taken, and uploads waiting.
    private let gate = Mutex((open: 0, waiting: 0))

    /// Pack uploads waiting at the gate.
    var held: Int { gate.withLock { $0.waiting } }

    init(base: any ObjectStore) { self.base = base }

    /// Lets `count` held (or future) pack uploads go on.
    func release(_ count: Int) { gate.withLock { $0.open += count } }

    var location: String { base.location }
    func checkAccess() async throws { try await base.checkAccess() }
    func put(_ key: String, _ bytes: [UInt8]) async throws {
        if key.hasPrefix(PackLayout.prefix) {
            gate.withLock { $0.waiting += 1 }
            defer { gate.withLock { $0.waiting -= 1 } }
            while !gate.withLock({ state in
                guard state.open > 0 else { return false }
                state.open -= 1
                return true
            }) {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        try await base.put(key, bytes)
    }
    func get(_ key: String) async throws -> [UInt8] { try await base.get(key) }
    func size(of key: String) async throws -> Int? { try await base.size(of: key) }
    func delete(_ key: String) async throws { try await base.delete(key) }
    func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        try await base.list(prefix: prefix, page: page)
    }
    func sync() async throws { try await base.sync() }
}

/// Chunks are readable at every stage of their pack's life: open, closed and being uploaded, uploaded; and the pack
/// that lands is the documented layout under its trailer's name.
@Suite("pack store")
struct PackStoreTests {
    @Test("a chunk reads back from its open pack, from its closed pack during the upload, and from the pack object")
    func chunksReadableThroughoutAPacksLife() async throws {
        let temp = try TemporaryDirectory("pack-life")
        defer { temp.remove() }
        let store = GatedPackStore(base: try LocalDirectoryStore(root: temp.path, create: true))
        // Packs of 1 KiB: two 600-byte chunks (random, so lz4 leaves them near 600 bytes) fill one.
        let limits = Repository.Limits(requestsInFlight: 8, bytesInFlight: 1 << 20, packSize: 1 << 10)
        let repository = try await Repository.openOrCreate(store, limits: limits)
        let chunks = (0..<3).map { TestData.random(count: 600, seed: UInt64(40 + $0)) }
        let first = try await repository.putChunk(chunks[0])
        #expect(try await repository.getChunk(first.id) == chunks[0], "from the open pack")
        // The second chunk fills the pack; its put waits for the upload, which the gate holds.
        let filling = Task { try await repository.putChunk(chunks[1]) }
        while store.held == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let second = ChunkRef(id: repository.chunkID(of: chunks[1]), length: 600)
        #expect(try await repository.getChunk(first.id) == chunks[0], "from the closed pack, upload held")
        #expect(try await repository.getChunk(second.id) == chunks[1])
        let third = try await repository.putChunk(chunks[2])
        #expect(try await repository.getChunk(third.id) == chunks[2], "from the next open pack")
        #expect(try await store.base.listAll(prefix: PackLayout.prefix).isEmpty, "nothing uploaded yet")

        store.release(2)
        #expect(try await filling.value == second)
        try await repository.ensureStored([first.id, second.id, third.id])
        let packs = try await store.base.listAll(prefix: PackLayout.prefix)
        #expect(packs.count == 2)
        // Read back through a second repository: only the pack objects and their index serve now.
        let reopened = try await Repository.open(store.base)
        for (ref, bytes) in zip([first, second, third], chunks) {
            #expect(try await reopened.getChunk(ref.id) == bytes)
        }
        for (pack, located) in await reopened.indexedLocations() {
            let check = try await reopened.checkPack(pack, chunks: located)
            #expect(check.matchesName && check.corrupt.isEmpty, "pack \(pack)")
            let bytes = try await store.base.get(pack.key)
            let length = try #require(PackLayout.headerLength(fromLastFour: Array(bytes.suffix(4))))
            #expect(PackLayout.name(trailer: Array(bytes.suffix(length + 4))) == pack, "named by its trailer")
            #expect(PackID(hashing: bytes) != pack, "not by all its bytes")
        }
    }

    @Test("adding outruns uploading: closed packs wait in memory no more than uploads run at once")
    func closedPacksAreBounded() async throws {
        let temp = try TemporaryDirectory("pack-room")
        defer { temp.remove() }
        let store = GatedPackStore(base: try LocalDirectoryStore(root: temp.path, create: true))
        // Every two 600-byte chunks fill a 1 KiB pack: 24 chunks make 12 packs, while two may upload at once.
        let limits = Repository.Limits(requestsInFlight: 64, bytesInFlight: 64 << 20, packSize: 1 << 10, packUploads: 2)
        let repository = try await Repository.openOrCreate(store, limits: limits)
        let chunks = (0..<24).map { TestData.random(count: 600, seed: UInt64(100 + $0)) }
        let puts = Task {
            try await withThrowingTaskGroup(of: ChunkRef.self) { group in
                for chunk in chunks { group.addTask { try await repository.putChunk(chunk) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        while store.held < 2 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(200))
        let closed = await repository.packs.closedPacks
        #expect(closed <= 2, "\(closed) packs closed while two uploads are held")
        store.release(100)
        let refs = try await puts.value
        try await repository.ensureStored(refs.map(\.id))
        #expect(try await store.base.listAll(prefix: PackLayout.prefix).count == 12)
        for (ref, chunk) in zip(chunks.map { repository.chunkID(of: $0) }, chunks) {
            #expect(try await repository.getChunk(ref) == chunk)
        }
    }
}
