import Foundation
import SampleData
import SystemIO
import TestSupport
import Testing

@Suite("velero-cas verify")
struct VerifyCommandTests {
    /// A store with two snapshots of one tree; returns the path of the pack both reference that holds the file
    /// data (the largest: the other holds metadata, manifests whose ids vary with mtimes and inodes).
    static func store(_ temp: TemporaryDirectory) async throws -> String {
        try SampleData(seed: 31).generate(into: temp.sub("data"), bytes: 1 << 20)
        for name in ["one", "two"] {
            #expect(
                try await CLIRunner.run([
                    "store", "backup-dir", temp.sub("data"), "--store", temp.sub("store"), "--name", name,
                ]).status == 0)
        }
        let packs = temp.sub("store/packs")
        var files: [String] = []
        for fanout in try FileSystem.contentsOfDirectory(packs) {
            files += try FileSystem.contentsOfDirectory(packs + "/" + fanout).map { packs + "/" + fanout + "/" + $0 }
        }
        return try #require(try files.max { try FileSystem.status($0).size < FileSystem.status($1).size })
    }

    @Test("a healthy store verifies clean, with and without reading the data")
    func clean() async throws {
        let temp = try TemporaryDirectory("verify")
        defer { temp.remove() }
        _ = try await Self.store(temp)
        for flags in [[], ["--read-data"]] {
            let result = try await CLIRunner.run(["verify", "--store", temp.sub("store"), "-o", "json"] + flags)
            #expect(result.status == 0, "\(result.errors)")
            let report = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            #expect((report?["damage"] as? [Any])?.isEmpty == true)
            #expect(report?["snapshots"] as? Int == 2)
            #expect(report?["orphanedChunks"] as? Int == 0)
        }
    }

    @Test("a deleted pack is named with every snapshot it breaks; exit is non-zero")
    func missing() async throws {
        let temp = try TemporaryDirectory("verify")
        defer { temp.remove() }
        let pack = try await Self.store(temp)
        try FileSystem.removeFile(pack)
        let result = try await CLIRunner.run(["verify", "--store", temp.sub("store")])
        #expect(result.status != 0)
        let id = String(pack.split(separator: "/").last!)
        #expect(result.output.contains(id) && result.output.contains("missing"), "\(result.output)")
        #expect(result.output.contains("snapshot one") && result.output.contains("snapshot two"))
        #expect(result.errors.contains("the store is damaged"))
    }

    @Test(
        "a flipped byte in a pack passes a plain verify but --read-data finds it and names the snapshots",
        arguments: [true, false])
    func corrupt(insideAChunk: Bool) async throws {
        let temp = try TemporaryDirectory("verify")
        defer { temp.remove() }
        let pack = try await Self.store(temp)
        var bytes = try FileSystem.readFile(pack)
        // Inside the first blob, or in the pack's header (outside every chunk).
        bytes[insideAChunk ? 100 : bytes.count - 30] ^= 0xFF
        try bytes.withUnsafeBytes { try FileSystem.writeAtomically(pack, bytes: $0) }
        #expect(try await CLIRunner.run(["verify", "--store", temp.sub("store")]).status == 0)
        let result = try await CLIRunner.run(["verify", "--read-data", "--store", temp.sub("store")])
        #expect(result.status != 0)
        let id = String(pack.split(separator: "/").last!)
        #expect(result.output.contains(id), "\(result.output)")
        #expect(result.output.contains(insideAChunk ? "corrupt" : "does not hash to its name"), "\(result.output)")
        #expect(result.output.contains("snapshot one") && result.output.contains("snapshot two"))
    }

    @Test("a chunk nothing references is reported as orphaned, with its size")
    func orphan() async throws {
        let temp = try TemporaryDirectory("verify")
        defer { temp.remove() }
        _ = try await Self.store(temp)
        try FileSystem.removeFile(temp.sub("store/snapshots/two.json"))
        try FileSystem.removeFile(temp.sub("store/snapshots/one.json"))
        let result = try await CLIRunner.run(["verify", "--store", temp.sub("store"), "-o", "json"])
        #expect(result.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        #expect((report?["orphanedChunks"] as? Int ?? 0) > 0)
        #expect((report?["orphanedBytes"] as? Int ?? 0) > 500_000)
    }
}

@Suite("velero-cas store stats")
struct StatsCommandTests {
    @Test("stats: two snapshots of one tree dedup 2x; lz4 shrinks the text half; no orphans")
    func stats() async throws {
        let temp = try TemporaryDirectory("stats")
        defer { temp.remove() }
        _ = try await VerifyCommandTests.store(temp)
        let result = try await CLIRunner.run(["store", "stats", "--store", temp.sub("store"), "-o", "json"])
        #expect(result.status == 0, "\(result.errors)")
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(stats["snapshots"] as? Int == 2)
        let dedup = try #require(stats["dedupRatio"] as? Double)
        #expect(dedup > 1.9 && dedup < 2.1, "two identical snapshots: \(dedup)")
        #expect((stats["compressionRatio"] as? Double ?? 0) > 1.1)
        #expect(stats["orphanedBytes"] as? Int == 0)
        let table = try await CLIRunner.run(["store", "stats", "--store", temp.sub("store")])
        #expect(table.output.contains("DEDUP") && table.output.contains("COMPRESSION"))
    }
}
