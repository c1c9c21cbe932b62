import ChunkStore
import Foundation
import SystemIO
import TestSupport
import Testing

/// A failed request or a cancellation stops the pipeline: nothing more is sent than was already in flight, and no
/// request outlives the operation's store lock.
@Suite("failures and cancellation stop the work")
struct FailureStopsWorkTests {
    /// How many chunks the volume chunker cuts `data` into.
    static func chunkCount(_ data: [UInt8], _ repository: Repository) -> Int {
        data.withUnsafeBytes { repository.volumeChunker.cuts(of: $0).count }
    }

    /// Chunk requests in flight at once in these tests (the default, 32, is sized for object-store latency), and
    /// pack uploads; packs of 1 MiB so that a backup of tens of MiB makes many.
    static let slots = 8
    static let uploads = 4
    static let limits = Repository.Limits(
        requestsInFlight: slots, bytesInFlight: 64 << 20, packSize: 1 << 20, packUploads: uploads)

    @Test("a volume backup whose 4th pack upload fails stops reading the file and releases its lock last")
    func backupStopsOnFailedUpload() async throws {
        let temp = try TemporaryDirectory("stop-backup")
        defer { temp.remove() }
        let data = TestData.random(count: 48 << 20, seed: 7)
        try FileSystem.makeDirectory(temp.sub("source"))
        try data.withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("source/big.bin"), bytes: $0) }
        let chunks = Self.chunkCount(
            data, try await Repository.openOrCreate(try LocalDirectoryStore(root: temp.sub("plain"), create: true)))
        #expect(chunks >= 24, "enough chunks that reading on past the failure would show")

        let store = SlowFailingStore(
            base: try LocalDirectoryStore(root: temp.sub("store"), create: true), latency: .milliseconds(30),
            failPut: 4)
        let repository = try await Repository.openOrCreate(store, limits: Self.limits)
        await #expect(throws: (any Error).self) {
            _ = try await TreeBackup(repository: repository).run(source: temp.sub("source"), name: "v1")
        }
        let counts = store.counts
        #expect(counts.failed)
        #expect(counts.packPuts <= 4 + Self.uploads + 1, "\(counts.packPuts) uploads of \(chunks) chunks")
        #expect(counts.startedAfterFailure <= 1, "\(counts.startedAfterFailure) uploads started after the failure")
        #expect(!counts.inFlightAtLockRelease.isEmpty && counts.inFlightAtLockRelease.allSatisfy { $0 == 0 })
        #expect(counts.inFlight == 0)
    }

    @Test("a restore whose 4th chunk fetch fails starts no further fetches")
    func restoreStopsOnFailedFetch() async throws {
        let temp = try TemporaryDirectory("stop-restore")
        defer { temp.remove() }
        let data = TestData.random(count: 48 << 20, seed: 8)
        try FileSystem.makeDirectory(temp.sub("source"))
        try data.withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("source/big.bin"), bytes: $0) }
        let plain = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        _ = try await TreeBackup(repository: try await Repository.openOrCreate(plain)).run(
            source: temp.sub("source"), name: "v1")
        let chunks = Self.chunkCount(data, try await Repository.open(plain))

        let store = SlowFailingStore(base: plain, latency: .milliseconds(30), failGet: 4)
        let repository = try await Repository.open(store, limits: Self.limits)
        await #expect(throws: (any Error).self) {
            _ = try await TreeRestore(repository: repository, restoreOwners: false).run(
                snapshot: "v1", into: temp.sub("target"))
        }
        let counts = store.counts
        #expect(counts.failed)
        #expect(counts.packGets <= 4 + Self.slots + 1, "\(counts.packGets) fetches of \(chunks) chunks")
        #expect(counts.startedAfterFailure <= 1)
        #expect(!counts.inFlightAtLockRelease.isEmpty && counts.inFlightAtLockRelease.allSatisfy { $0 == 0 })
    }

    @Test("a blob writer whose 10th pack upload fails throws from append, with no upload left running")
    func blobWriterStopsOnFailedUpload() async throws {
        let temp = try TemporaryDirectory("stop-blob")
        defer { temp.remove() }
        let store = SlowFailingStore(
            base: try LocalDirectoryStore(root: temp.sub("store"), create: true), latency: .milliseconds(5),
            failPut: 10)
        let repository = try await Repository.openOrCreate(store, limits: Self.limits)
        let writer = BlobWriter(repository: repository, chunker: repository.resourceChunker)
        let data = TestData.random(count: 30 << 20, seed: 9)
        var appended = 0
        await #expect(throws: InjectedFailure.self) {
            while appended < data.count {
                try await writer.append(data[appended..<min(appended + (1 << 20), data.count)])
                appended += 1 << 20
            }
            _ = try await writer.finish()
        }
        #expect(appended < data.count / 2, "append stopped early, at \(appended) of \(data.count) bytes")
        let counts = store.counts
        #expect(counts.inFlight == 0, "no upload outlives the failed writer")
        #expect(counts.packPuts <= 10 + Self.uploads + 1, "\(counts.packPuts) uploads")
    }

    @Test("cancelling a blob writer's task ends it promptly, with no upload left running")
    func blobWriterCancellation() async throws {
        let temp = try TemporaryDirectory("stop-cancel")
        defer { temp.remove() }
        let store = SlowFailingStore(
            base: try LocalDirectoryStore(root: temp.sub("store"), create: true), latency: .milliseconds(50))
        let repository = try await Repository.openOrCreate(store, limits: Self.limits)
        let task = Task {
            let writer = BlobWriter(repository: repository, chunker: repository.resourceChunker)
            var seed: UInt64 = 0
            while true {
                seed += 1
                try await writer.append(TestData.random(count: 1 << 20, seed: seed))
            }
        }
        // Cancel once uploads are under way (the machine may be busy with other suites).
        let deadline = ContinuousClock.now + .seconds(60)
        while store.counts.inFlight == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(store.counts.inFlight > 0, "uploads were under way when the task was cancelled")
        let cancelled = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // Promptly: the uploads under way (50 ms each) end; seen above 2 s in a full CI run on 2 cores, so the bound
        // leaves room for a loaded machine (a writer that ignored cancellation would never end).
        #expect(ContinuousClock.now - cancelled < .seconds(20))
        #expect(store.counts.inFlight == 0, "no upload outlives the cancelled writer")
    }
}

/// How much chunk work is under way at once: requests sized for latency, memory bounded by bytes.
@Suite("requests and bytes in flight")
struct InFlightLimitTests {
    @Test("with 30 ms per request, adjacent chunks come in one read, and reads overlap up to the request limit")
    func requestsForLatency() async throws {
        let temp = try TemporaryDirectory("inflight-requests")
        defer { temp.remove() }
        let base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let store = SlowFailingStore(base: base, latency: .milliseconds(30))
        let limits = Repository.Limits(requestsInFlight: 24, bytesInFlight: 64 << 20)
        let repository = try await Repository.openOrCreate(store, limits: limits)
        // Chunks stored one after the other lie next to each other in one pack: one ranged read brings them all.
        var refs: [ChunkRef] = []
        var chunks: [[UInt8]] = []
        for seed in 0..<16 {
            chunks.append(TestData.random(count: 100_000 + seed, seed: UInt64(seed)))
            refs.append(try await repository.putChunk(chunks[seed]))
        }
        try await repository.flushPacks()
        #expect(store.counts.packPuts == 1)
        #expect(try await repository.getChunks(refs) == chunks)
        #expect(store.counts.packGets == 1, "16 adjacent chunks, one request")
        // Out of their order in the pack, each is a run of its own.
        #expect(try await repository.getChunks(refs.reversed()) == chunks.reversed())
        #expect(store.counts.packGets == 1 + 16)
        // Separate reads (say, 40 resources restored at once) overlap up to the request limit, not the core count.
        // Each read is held until the limit's worth are in flight (or 10 s pass), so a loaded machine starting the
        // tasks slowly still shows the overlap; a cap below the limit shows as a maximum below it.
        let slow = SlowFailingStore(
            base: base, latency: .milliseconds(30), gather: (count: limits.requestsInFlight, patience: .seconds(10)))
        let reader = try await Repository.open(slow, limits: limits)
        let stored = refs
        let expected = chunks
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let read = try await reader.readBlob([stored[index % stored.count]])
                    #expect(read == expected[index % stored.count])
                }
            }
            try await group.waitForAll()
        }
        #expect(store.counts.packGets == 1 + 16)
        let counts = slow.counts
        #expect(counts.packGets == 40)
        #expect(counts.maxInFlight > ProcessInfo.processInfo.activeProcessorCount * 4, "\(counts.maxInFlight)")
        #expect(counts.maxInFlight <= 24)
    }

    @Test("pack uploads bound the bytes being uploaded, however many chunk requests are allowed")
    func bytesBoundMemory() async throws {
        let temp = try TemporaryDirectory("inflight-bytes")
        defer { temp.remove() }
        try FileSystem.makeDirectory(temp.sub("source"))
        let data = TestData.random(count: 24 << 20, seed: 4)
        try data.withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("source/big.bin"), bytes: $0) }
        // The first upload is held until a second is under way (or 10 s pass): a loaded machine that chunks slowly
        // still shows whether uploads can overlap.
        let store = SlowFailingStore(
            base: try LocalDirectoryStore(root: temp.sub("store"), create: true), latency: .milliseconds(20),
            gather: (count: 2, patience: .seconds(10)))
        // A volume chunk is at most 4 MiB: the budget must hold one; 8 MiB lets two maximal ones through. Packs
        // close at 2 MiB, so one holds at most 2 MiB + 4 MiB of blobs; two upload at once.
        let repository = try await Repository.openOrCreate(
            store, limits: .init(requestsInFlight: 64, bytesInFlight: 8 << 20, packSize: 2 << 20, packUploads: 2))
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("source"), name: "v")
        let counts = store.counts
        #expect(counts.packPuts > 4)
        // Two packs of at most 6 MiB of blobs, each with its header.
        #expect(counts.maxBytesInFlight <= 2 * ((6 << 20) + 4096), "\(counts.maxBytesInFlight) bytes in flight")
        #expect(counts.maxInFlight >= 2, "uploads still overlap (\(counts.maxInFlight))")
        let restored = try await Repository.open(store, limits: .init(requestsInFlight: 64, bytesInFlight: 2 << 20))
        _ = try await TreeRestore(repository: restored, restoreOwners: false).run(
            snapshot: "v", into: temp.sub("target"))
        #expect(try FileSystem.readFile(temp.sub("target/big.bin")) == data)
    }
}
