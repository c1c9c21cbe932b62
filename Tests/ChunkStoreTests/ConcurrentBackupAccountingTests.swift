import ChunkStore
import SampleData
import TestSupport
import Testing

@Suite("Per-operation statistics")
struct ConcurrentBackupAccountingTests {
    @Test("backups running at once on one repository each count only their own new chunks")
    func concurrentBackupsCountTheirOwnChunks() async throws {
        let temp = try TemporaryDirectory("accounting")
        defer { temp.remove() }
        try SampleData(seed: 21).generate(into: temp.sub("unchanged"), bytes: 512 << 10)
        try SampleData(seed: 22).generate(into: temp.sub("fresh"), bytes: 8 << 20)
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: temp.sub("store"), create: true))
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("unchanged"), name: "before")

        async let fresh = TreeBackup(repository: repository).run(source: temp.sub("fresh"), name: "fresh")
        async let again = TreeBackup(repository: repository).run(source: temp.sub("unchanged"), name: "again")
        let (freshSnapshot, againSnapshot) = try await (fresh, again)
        #expect(againSnapshot.summary.newStoredBytes == 0, "the unchanged tree is charged with another backup's chunks")
        #expect(againSnapshot.summary.newChunks == 0)
        #expect(freshSnapshot.summary.newStoredBytes > 4 << 20)
        #expect(repository.statistics.current.newStoredBytes >= freshSnapshot.summary.newStoredBytes)
    }
}
