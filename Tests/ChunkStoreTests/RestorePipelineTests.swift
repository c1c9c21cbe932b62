import Foundation
import Synchronization
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore

/// A restore decodes each run of chunks into one reused buffer, and writes files while the tree is still being made.
@Suite("Restore pipeline")
struct RestorePipelineTests {
    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// Files of distinct content (random and text) in three directories; returns each file's bytes by path.
    private static func tree(at path: String, files: Int) throws -> [String: [UInt8]] {
        var contents: [String: [UInt8]] = [:]
        for index in 0..<files {
            let directory = "d\(index % 3)"
            try FileSystem.makeDirectories(path + "/" + directory)
            let bytes =
                index.isMultiple(of: 2)
                ? TestData.random(count: 96_000 + index * 1000, seed: UInt64(index + 1))
                : Array("line \(index) of a text file\n".utf8).repeated(toAtLeast: 120_000)
            try bytes.withUnsafeBytes { try FileSystem.writeAtomically("\(path)/\(directory)/f\(index)", bytes: $0) }
            contents["\(directory)/f\(index)"] = bytes
        }
        return contents
    }

    /// `tree` in `temp`'s "source", backed up as "snap" into a store in `temp`.
    private static func backedUp(_ temp: TemporaryDirectory, files: Int) async throws
        -> (Repository, [String: [UInt8]])
    {
        let contents = try tree(at: temp.sub("source"), files: files)
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("source"), name: "snap")
        return (repository, contents)
    }

    @Test func filesAreWrittenWhileTheTreeIsStillBeingMade() async throws {
        let temp = try TemporaryDirectory("pipeline-overlap")
        defer { temp.remove() }
        let (repository, contents) = try await Self.backedUp(temp, files: 24)

        let target = temp.sub("target")
        let created = Mutex(0)
        let writtenMeanwhile = Mutex<String?>(nil)
        var restore = TreeRestore(repository: repository)
        // When the last file exists, the tree is not finished until this returns: some file made before it must be
        // written whole meanwhile. A restore that writes only once the whole tree is made never lets that happen.
        restore.afterCreating = { entry in
            guard
                created.withLock({
                    $0 += 1; return $0
                }) == contents.count
            else { return }
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                for (path, bytes) in contents where path != entry.path {
                    if (try? FileSystem.readFile(target + "/" + path)) == bytes {
                        writtenMeanwhile.withLock { $0 = path }
                        return
                    }
                }
                usleep(2000)
            }
            throw Timeout(description: "no file was written while the tree was being made")
        }
        _ = try await restore.run(snapshot: "snap", into: target)
        #expect(writtenMeanwhile.withLock { $0 } != nil)
        #expect(try await TreeFixtures.differences(temp.sub("source"), target) == [])
    }

    @Test func aTreeThatCannotBeMadeReportsWhyNotWhatWaitedForIt() async throws {
        let temp = try TemporaryDirectory("pipeline-tree-error")
        defer { temp.remove() }
        let (repository, contents) = try await Self.backedUp(temp, files: 12)

        // The last file's path is a directory in the target: the tree fails there, after earlier files were made
        // and while their writers run; the writers still waiting must not hide the cause.
        let target = temp.sub("target")
        let blocked = contents.keys.sorted().last!
        try FileSystem.makeDirectories(target + "/" + blocked)
        let error = await #expect(throws: ChunkStoreError.self) {
            try await TreeRestore(repository: repository).run(snapshot: "snap", into: target, overwrite: true)
        }
        guard case .unsafeManifestPath(let path, let reason)? = error else {
            Issue.record("expected unsafeManifestPath, got \(String(describing: error))")
            return
        }
        #expect(path == blocked)
        #expect(reason.contains("directory"), "\(reason)")
    }

    @Test(arguments: [false, true])
    func aRunDecodesIntoOneBufferAsItsChunksDoOneByOne(encrypted: Bool) async throws {
        let temp = try TemporaryDirectory("pipeline-runs")
        defer { temp.remove() }
        let repository =
            encrypted
            ? try await EncryptionTests.encrypted(temp).0 : try await TreeFixtures.repository(at: temp.sub("store"))
        // Chunks stored one after another lie one after another in their pack, as a file's chunks do.
        var blob: [UInt8] = []
        var refs: [ChunkRef] = []
        for index in 0..<24 {
            let chunk =
                index.isMultiple(of: 3)
                ? TestData.random(count: 20_000 + index * 977, seed: UInt64(index))
                : Array(TestData.text(count: 30_000 + index * 1013).reversed())
            refs.append(try await repository.putChunk(chunk))
            blob += chunk
        }
        try await repository.flushPacks()
        let runs = try await repository.readRuns(refs)
        #expect(runs.count < refs.count, "adjacent chunks of a pack are read together")

        var joined: [UInt8] = []
        for run in runs {
            let fetched = try await repository.fetch(run)
            let decoded = try [UInt8](unsafeUninitializedCapacity: fetched.plainBytes) { buffer, count in
                try repository.decode(fetched, into: UnsafeMutableRawBufferPointer(buffer))
                count = buffer.count
            }
            let oneByOne = try await repository.read(run)
            #expect(oneByOne.map(\.index) == run.indices)
            #expect(decoded == Array(oneByOne.map(\.plain).joined()))
            joined += decoded
        }
        #expect(joined == blob)
    }

    @Test func aChangedByteInAPackFailsItsRunNamingTheChunk() async throws {
        let temp = try TemporaryDirectory("pipeline-damage")
        defer { temp.remove() }
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        let blob = TestData.random(count: 400_000, seed: 9)
        let refs = try await repository.putBlob(blob)
        try await repository.flushPacks()
        let runs = try await repository.readRuns(refs)
        let fetched = try await repository.fetch(runs[0])
        // The stored copy changed after it was read: one byte in the middle of its first chunk.
        var damaged = fetched
        damaged.stored[fetched.blob(of: runs[0].members[0]).lowerBound + 1000] ^= 0x40
        let error = #expect(throws: ChunkStoreError.self) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: damaged.plainBytes, alignment: 16)
            defer { buffer.deallocate() }
            try repository.decode(damaged, into: buffer)
        }
        guard case .corruptChunk(let id, _, _)? = error else {
            Issue.record("expected corruptChunk, got \(String(describing: error))")
            return
        }
        #expect(id == refs[0].id)
    }

    @Test func spareBuffersAreReusedBySizeAndKeptWithinTheirLimit() {
        let spares = SpareBuffers(limitBytes: 256 << 10)
        let small = spares.take(atLeast: 1000)
        #expect(small.count == 64 << 10, "at least 64 KiB")
        let odd = spares.take(atLeast: (100 << 10) + 1)
        #expect(odd.count == 128 << 10, "the next power of two")
        let exact = spares.take(atLeast: 128 << 10)
        #expect(exact.count == 128 << 10)
        spares.give(small)
        spares.give(odd)
        spares.give(exact)  // 320 KiB given, 256 KiB kept: the oldest (the 64 KiB one) is freed
        let again = spares.take(atLeast: 128 << 10)
        #expect(again.baseAddress == exact.baseAddress, "the last kept buffer of that size is reused")
        let other = spares.take(atLeast: 128 << 10)
        #expect(other.baseAddress == odd.baseAddress)
        let fresh = spares.take(atLeast: 1000)
        #expect(fresh.count == 64 << 10)
        for buffer in [again, other, fresh] { buffer.deallocate() }
    }

    @Test func aChunkReadForBackupGoesBackToItsSparesWhenItsLastReferenceGoes() {
        let spares = SpareBuffers(limitBytes: 4 << 20)
        let content = TestData.random(count: 300_000, seed: 7)
        var first: ChunkBytes? = content.withUnsafeBytes { ChunkBytes(copying: $0, spares: spares) }
        let firstAddress = first?.address
        #expect(first?.array == content)
        #expect(first?.count == content.count)
        withExtendedLifetime(first) {
            // Still referenced: a chunk of the same size class gets another buffer.
            let other = content.withUnsafeBytes { ChunkBytes(copying: $0, spares: spares) }
            #expect(other.address != firstAddress)
        }
        first = nil
        let shorter = Array(content.dropLast(1000))
        let reused = shorter.withUnsafeBytes { ChunkBytes(copying: $0, spares: spares) }
        #expect(reused.address == firstAddress, "the buffer came back and was taken again")
        #expect(reused.array == shorter)
    }
}

extension Array where Element == UInt8 {
    fileprivate func repeated(toAtLeast count: Int) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count + self.count)
        while result.count < count { result += self }
        return result
    }
}
