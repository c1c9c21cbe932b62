import Foundation
import HTTPTransport
import SampleData
import TestSupport
import Testing

@testable import ChunkStore
@testable import Collectors
@testable import GarbageCollector

@Suite("Expiry on S3 (moto)", .enabled(if: MotoEnvironment.isAvailable))
struct S3ExpiryTests {
    @Test("expiring a backup on S3 frees its own chunks, keeps shared ones, and leaves a clean store")
    func expiryOnS3() async throws {
        let temp = try TemporaryDirectory("gc-s3")
        defer { temp.remove() }
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("gc", client: client)
        let repository = try await Repository.openOrCreate(try MotoBucket.store(bucket, prefix: "gc", client: client))
        try SampleData(seed: 61).generate(into: temp.sub("data"), bytes: 1 << 20)
        try await ExpiryTests.backup(
            "old", source: temp.sub("data"), expires: Date(timeIntervalSinceNow: -5), repository: repository)
        try SampleData(seed: 61).mutate(directory: temp.sub("data"), fraction: 0.3)
        try await ExpiryTests.backup("new", source: temp.sub("data"), expires: nil, repository: repository)

        let result = try await GarbageCollector(repository: repository).run()
        #expect(result.expired.contains("backup old"))
        #expect(result.deletedChunks > 0)
        let report = try await StoreVerifier(repository: repository).verify(readData: true)
        #expect(report.isClean && report.orphanedChunks == 0, "\(report.damage)")
        #expect(try await StoreLock.locks(repository).isEmpty, "the lock was released")
        _ = try await TreeRestore(repository: repository).run(snapshot: "new.pv.data", into: temp.sub("restored"))
        #expect(try SampleData.compareTrees(temp.sub("data"), temp.sub("restored")) == [])
    }
}
