import ChunkStore
import Foundation
import HTTPTransport
import SystemIO
import TestSupport
import Testing

/// The S3 backend against moto with signature checking on (`scripts/with-moto.sh`).
@Suite("S3 object store", .enabled(if: MotoEnvironment.isAvailable, "needs scripts/with-moto.sh"))
struct S3ObjectStoreTests {
    @Test func putGetSizeDelete() async throws {
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("basics", client: client)
        let store = try MotoBucket.store(bucket, client: client)
        try await store.checkAccess()

        let bytes = TestData.random(count: 100_000, seed: 21)
        try await store.put("dir/object.bin", bytes)
        let read = try await store.get("dir/object.bin")
        #expect(read.count == bytes.count && read == bytes, "get returns what put stored")
        #expect(try await store.size(of: "dir/object.bin") == bytes.count)
        try await store.put("dir/object.bin", [1, 2, 3])
        #expect(try await store.get("dir/object.bin") == [1, 2, 3], "a second put replaces the object")
        try await store.put("empty", [])
        #expect(try await store.get("empty") == [])
        #expect(try await store.size(of: "empty") == 0)

        try await store.delete("dir/object.bin")
        #expect(try await store.size(of: "dir/object.bin") == nil)
        try await store.delete("dir/object.bin")  // deleting a missing key succeeds
        try await store.sync()
    }

    @Test func missingKeyIsObjectNotFound() async throws {
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("missing-key", client: client)
        let store = try MotoBucket.store(bucket, client: client)
        let error = await #expect(throws: ChunkStoreError.self) { try await store.get("no/such/key") }
        guard case .objectNotFound(let key, let location)? = error else {
            Issue.record("expected objectNotFound, got \(String(describing: error))")
            return
        }
        #expect(key == "no/such/key")
        #expect(location == "s3://\(bucket)")
        #expect(try await store.size(of: "no/such/key") == nil)
    }

    @Test(arguments: ["dir/a-b_c.d.json", "x/y/z/UPPER.lower-1_2", "dir/.hidden", "a...b/c--d__e", "k"])
    func keysWithPunctuationRoundTrip(key: String) async throws {
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("keys", client: client)
        let store = try MotoBucket.store(bucket, prefix: "pre.fix", client: client)
        let bytes = Array(key.utf8)
        try await store.put(key, bytes)
        #expect(try await store.get(key) == bytes)
        let listed = try await store.listAll(prefix: "")
        #expect(listed.map(\.key) == [key], "listing strips the store prefix")
        // The store's clock says when it was written (lock staleness is judged on it); moto shares this host's clock.
        let modified = try #require(listed.first?.modified, "the listing carries LastModified")
        #expect(abs(modified.timeIntervalSinceNow) < 120)
    }

    @Test func listingPaginatesOverContinuationTokens() async throws {
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("paging", client: client)
        let store = try MotoBucket.store(bucket, prefix: "store", client: client)
        let keys = (0..<1005).map { "many/obj-\(String(10_000 + $0))" }
        let slots = AsyncSemaphore(permits: 16)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                try await slots.acquire()
                group.addTask {
                    defer { slots.release() }
                    try await store.put(key, Array(key.utf8.suffix(5)))
                }
            }
            try await group.waitForAll()
        }
        try await store.put("other/x", [0])
        try await store.put("many-not/y", [0])

        var pages: [Int] = []
        var listed: [ObjectInfo] = []
        try await store.list(prefix: "many/") { page in
            pages.append(page.count)
            listed.append(contentsOf: page)
        }
        #expect(listed.count == 1005)
        #expect(pages.count >= 2, "1,005 objects need more than one page: \(pages)")
        let allListed = Set(listed.map(\.key)) == Set(keys)
        #expect(allListed, "every key is listed once")
        #expect(listed.allSatisfy { $0.size == 5 })
        #expect(try await store.listAll(prefix: "many/obj-1100").count == 5)
        #expect(try await store.listAll(prefix: "").count == 1007)
    }
}

/// Keys S3 would accept but the store refuses (spaces, '+', '=', '..', non-ASCII), checked offline.
@Suite("S3 key validation")
struct S3KeyValidationTests {
    @Test(arguments: ["dir/a b+c=d.json", "../x", "a//b", "/abs", "ü"])
    func unsafeKeysAreRejectedBeforeAnyRequest(key: String) async throws {
        // No server is needed: validation fails before any request (nothing listens on port 1).
        let location = try S3Location(parsing: "s3://vc-never-created?endpoint=http://127.0.0.1:1")
        let store = S3ObjectStore(
            location: location, credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"),
            client: HTTPClient(), retry: .none)
        let error = await #expect(throws: ChunkStoreError.self) { try await store.put(key, [1]) }
        #expect(caseName(error) == "invalidObjectKey")
        let getError = await #expect(throws: ChunkStoreError.self) { try await store.get(key) }
        #expect(caseName(getError) == "invalidObjectKey")
    }
}
