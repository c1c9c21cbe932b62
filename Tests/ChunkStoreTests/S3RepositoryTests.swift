import ChunkStore
import Foundation
import HTTPTransport
import TestSupport
import Testing

/// A whole backup and restore over S3 (moto) under a key prefix.
@Suite("Repository over S3", .enabled(if: MotoEnvironment.isAvailable, "needs scripts/with-moto.sh"))
struct S3RepositoryTests {
    @Test(arguments: [false, true])
    func treeRoundTripUnderAPrefixAndNoReuploadFromAFreshRepository(encrypted: Bool) async throws {
        let temp = try TemporaryDirectory("s3-tree")
        defer { temp.remove() }
        let source = temp.sub("source")
        try await TreeFixtures.sampleTree(at: source, seed: 11)
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("tree", client: client)
        let url = "s3://\(bucket)/some/prefix?endpoint=\(MotoBucket.environment.endpoint)"
        let location = try S3Location(parsing: url)
        #expect(location.prefix == "some/prefix")

        let store = S3ObjectStore(location: location, credentials: MotoBucket.credentials, client: client)
        let openError = await #expect(throws: ChunkStoreError.self) { try await Repository.open(store) }
        #expect(caseName(openError) == "repositoryNotFound")
        let passwords: FixedPassword? = encrypted ? FixedPassword("s3 secret") : nil
        let repository = try await Repository.openOrCreate(
            store, config: RepositoryConfig(encryption: encrypted ? .aes256gcm : .none), passwords: passwords,
            keyParameters: .init(n: 1024, r: 8, p: 1))
        let first = try await TreeBackup(repository: repository).run(source: source, name: "first")
        #expect(first.summary.newChunks > 0)

        let target = temp.sub("restore")
        _ = try await TreeRestore(repository: repository).run(snapshot: "first", into: target)
        #expect(try await TreeFixtures.differences(source, target) == [])

        // Everything the store wrote lives under the prefix.
        let wholeBucket = try MotoBucket.store(bucket, client: client)
        let keys = try await wholeBucket.listAll(prefix: "").map(\.key)
        #expect(keys.contains("some/prefix/config"))
        #expect(keys.contains("some/prefix/" + Snapshot.key("first")))
        #expect(keys.allSatisfy { $0.hasPrefix("some/prefix/") })
        if encrypted {
            // What S3 holds is sealed: a record does not parse as JSON until decrypted.
            let raw = try await wholeBucket.get("some/prefix/" + Snapshot.key("first"))
            // (Its first byte is random — a nonce — so it may happen to be "{": the whole must not parse.)
            #expect((try? JSONSerialization.jsonObject(with: Data(raw))) == nil)
            #expect(!String(decoding: raw, as: UTF8.self).contains("\"first\""), "the snapshot's name is sealed too")
            #expect(keys.contains { $0.hasPrefix("some/prefix/keys/") })
        }

        let freshStore = CountingStore(
            S3ObjectStore(location: location, credentials: MotoBucket.credentials, client: client))
        let fresh = try await Repository.open(freshStore, passwords: passwords)
        let second = try await TreeBackup(repository: fresh).run(source: source, name: "second")
        #expect(second.parent == "first")
        #expect(fresh.statistics.current.newChunks == 0)
        #expect(second.summary.newStoredBytes == 0)
        #expect(freshStore.packPuts == 0)
        let snapshots = try await SnapshotCatalog(repository: fresh).all().map(\.name)
        #expect(snapshots == ["first", "second"])
    }

    @Test func storeLocationOpensAnS3Store() async throws {
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("open", client: client)
        let env = MotoBucket.environment
        let environment = [
            "AWS_ACCESS_KEY_ID": env.accessKey, "AWS_SECRET_ACCESS_KEY": env.secretKey,
            "AWS_ENDPOINT_URL": env.endpoint,
        ]
        let location = try StoreLocation(parsing: "s3://\(bucket)/p", environment: environment)
        let store = try location.open(create: true, environment: environment, client: client)
        let repository = try await Repository.openOrCreate(store)
        let data = TestData.text(count: 10_000)
        let ref = try await repository.putChunk(data)
        #expect(try await repository.getChunk(ref.id) == data)
        #expect(store.location == "s3://\(bucket)/p")
    }
}
