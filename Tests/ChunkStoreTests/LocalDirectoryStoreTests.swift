import ChunkStore
import Foundation
import SystemIO
import TestSupport
import Testing

@Suite("Local directory store")
struct LocalDirectoryStoreTests {
    @Test func putGetSizeDelete() async throws {
        let temp = try TemporaryDirectory("local-store")
        defer { temp.remove() }
        let store = try LocalDirectoryStore(root: temp.sub("store/"), create: true)
        #expect(store.location == temp.sub("store"), "trailing slashes are dropped")
        try await store.checkAccess()

        let bytes = TestData.random(count: 3000, seed: 1)
        try await store.put("a/b/c.bin", bytes)
        let read = try await store.get("a/b/c.bin")
        #expect(read.count == bytes.count && read == bytes, "get returns what put stored")
        #expect(try await store.size(of: "a/b/c.bin") == 3000)
        let onDisk = try FileSystem.readFile(temp.sub("store/a/b/c.bin"))
        #expect(onDisk == read, "one file per object under the root")

        try await store.put("a/b/c.bin", [1, 2, 3])
        #expect(try await store.get("a/b/c.bin") == [1, 2, 3], "a second put replaces the object whole")

        try await store.delete("a/b/c.bin")
        #expect(try await store.size(of: "a/b/c.bin") == nil)
        try await store.delete("a/b/c.bin")  // deleting a missing key succeeds
        try await store.sync()
    }

    @Test func getOfMissingKeyIsObjectNotFound() async throws {
        let temp = try TemporaryDirectory("local-missing")
        defer { temp.remove() }
        let store = try LocalDirectoryStore(root: temp.path)
        let error = await #expect(throws: ChunkStoreError.self) { try await store.get("nope/missing.json") }
        guard case .objectNotFound(let key, let location)? = error else {
            Issue.record("expected objectNotFound, got \(String(describing: error))")
            return
        }
        #expect(key == "nope/missing.json")
        #expect(location == temp.path)
        #expect(try await store.size(of: "nope/missing.json") == nil)
    }

    @Test(arguments: [
        "../x", "/abs", "a//b", "a/../b", "", "a/", "./a", "a/.", "a b", "a\\b", "ü", ".tmp/x", "d/.tmp-1",
    ])
    func invalidKeysAreRejected(key: String) async throws {
        let temp = try TemporaryDirectory("local-keys")
        defer { temp.remove() }
        let store = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        for operation in ["put", "get", "size", "delete"] {
            let error = await #expect(throws: ChunkStoreError.self, "\(operation) of '\(key)'") {
                switch operation {
                case "put": try await store.put(key, [1])
                case "get": _ = try await store.get(key)
                case "size": _ = try await store.size(of: key)
                default: try await store.delete(key)
                }
            }
            #expect(caseName(error) == "invalidObjectKey")
        }
        #expect(try FileSystem.contentsOfDirectory(temp.path) == ["store"], "nothing written outside the store")
        #expect(try FileSystem.contentsOfDirectory(temp.sub("store")).isEmpty)
    }

    @Test func listPagesAndFiltersByPrefix() async throws {
        let temp = try TemporaryDirectory("local-list")
        defer { temp.remove() }
        let store = try LocalDirectoryStore(root: temp.path)
        let many = (0..<1050).map { "many/obj-\(String(1000 + $0))" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, key) in many.enumerated() {
                if index >= 16 { try await group.next() }
                group.addTask { try await store.put(key, [UInt8(truncatingIfNeeded: index)]) }
            }
            try await group.waitForAll()
        }
        for key in ["logs/a.txt", "logs/b.txt", "logs/deep/c.txt", "logsx/d.txt", "other/e.txt", "top.json"] {
            try await store.put(key, Array(key.utf8))
        }

        var pages: [Int] = []
        var listed: [ObjectInfo] = []
        try await store.list(prefix: "many/") { page in
            pages.append(page.count)
            listed.append(contentsOf: page)
        }
        #expect(pages.count >= 2 && pages.allSatisfy { $0 <= 1000 }, "pages of at most 1,000: \(pages)")
        let allListed = Set(listed.map(\.key)) == Set(many)
        #expect(allListed, "every key is listed once")
        #expect(listed.count == many.count)
        #expect(listed.allSatisfy { $0.size == 1 && $0.modified != nil })

        func keys(_ prefix: String) async throws -> Set<String> {
            Set(try await store.listAll(prefix: prefix).map(\.key))
        }
        #expect(try await keys("logs/") == ["logs/a.txt", "logs/b.txt", "logs/deep/c.txt"])
        #expect(try await keys("logs") == ["logs/a.txt", "logs/b.txt", "logs/deep/c.txt", "logsx/d.txt"])
        #expect(try await keys("logs/deep/") == ["logs/deep/c.txt"])
        #expect(try await keys("many/obj-200") == Set(many.filter { $0.hasPrefix("many/obj-200") }))
        #expect(try await keys("nothing-here/") == [])
        #expect(try await keys("").count == many.count + 6)
        #expect(try await store.listAll(prefix: "top.json").map { [$0.key: $0.size] } == [["top.json": 8]])
    }

    @Test(
        "a killed writer's old temporary files are removed, a live writer's fresh one is kept, and listings skip both")
    func interruptedWritesAreRemoved() async throws {
        let temp = try TemporaryDirectory("local-interrupted")
        defer { temp.remove() }
        let store = try LocalDirectoryStore(root: temp.path)
        try await store.put("chunks/ab/abc", [1, 2, 3])
        let old = temp.sub("chunks/ab/.tmp-0123456789abcdef")
        let fresh = temp.sub("chunks/ab/.tmp-fedcba9876543210")
        for path in [old, fresh] { try [UInt8(9)].withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0) } }
        try FileSystem.setModificationTime(old, seconds: Int64(Date().timeIntervalSince1970) - 7200, nanoseconds: 0)
        #expect(try await store.listAll(prefix: "").map(\.key) == ["chunks/ab/abc"])
        #expect(try await store.removeInterruptedWrites(olderThan: .seconds(3600)) == 1)
        #expect(try FileSystem.statusIfExists(old) == nil)
        #expect(try FileSystem.statusIfExists(fresh) != nil, "a write that may still be under way is left alone")
    }

    @Test("a store's directories are 0700 and its files 0600: it holds the cluster's Secrets")
    func privateModes() async throws {
        let temp = try TemporaryDirectory("local-modes")
        defer { temp.remove() }
        let store = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        try await store.put("chunks/ab/abc", [1, 2, 3])
        #expect(try FileSystem.status(temp.sub("store")).mode == 0o700)
        #expect(try FileSystem.status(temp.sub("store/chunks")).mode == 0o700)
        #expect(try FileSystem.status(temp.sub("store/chunks/ab")).mode == 0o700)
        #expect(try FileSystem.status(temp.sub("store/chunks/ab/abc")).mode == 0o600)
    }

    @Test func putsLeaveNoTemporaryFiles() async throws {
        let temp = try TemporaryDirectory("local-tmp")
        defer { temp.remove() }
        let store = try LocalDirectoryStore(root: temp.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                // 100 distinct keys, each written twice concurrently.
                let key = "d\(index % 4)/k\(index / 4 % 25)"
                group.addTask { try await store.put(key, TestData.random(count: 500, seed: UInt64(index))) }
            }
            try await group.waitForAll()
        }
        try await store.sync()
        var names: [String] = []
        for directory in ["", "/d0", "/d1", "/d2", "/d3"] {
            names += try FileSystem.contentsOfDirectory(temp.path + directory)
        }
        #expect(!names.contains { $0.hasPrefix(".tmp-") })
        #expect(names.count == 4 + 100, "4 directories holding 100 distinct keys, nothing else")
    }

    @Test func checkAccessReportsMissingOrNonDirectoryRoots() async throws {
        let temp = try TemporaryDirectory("local-access")
        defer { temp.remove() }
        let missing = try LocalDirectoryStore(root: temp.sub("absent"))
        let error = await #expect(throws: ChunkStoreError.self) { try await missing.checkAccess() }
        #expect(caseName(error) == "repositoryNotFound")
        #expect(error?.description.contains(temp.sub("absent")) == true)
        #expect(try FileSystem.statusIfExists(temp.sub("absent")) == nil, "checking must not create the store")

        try [UInt8]().withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("plain-file"), bytes: $0) }
        let notADirectory = try LocalDirectoryStore(root: temp.sub("plain-file"))
        let fileError = await #expect(throws: ChunkStoreError.self) { try await notADirectory.checkAccess() }
        #expect(caseName(fileError) == "invalidStoreLocation")
    }
}
