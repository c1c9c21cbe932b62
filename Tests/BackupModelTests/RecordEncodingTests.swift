import BackupModel
import ChunkStore
import Testing

/// A store written before must read after: records written by earlier code decode into the model's types and encode
/// back to the very same bytes.
@Suite("Record encodings")
struct RecordEncodingTests {
    static func roundTrip<T: Codable>(_ type: T.Type, _ golden: String) throws -> T {
        let record = try StoreJSON.decode(type, from: Array(golden.utf8), key: "golden")
        let encoded = try StoreJSON.encode(record)
        #expect(String(decoding: encoded, as: UTF8.self) == golden)
        return record
    }

    @Test("a backup record reads and writes back byte for byte")
    func backup() throws {
        let record = try Self.roundTrip(BackupRecord.self, GoldenRecords.backup)
        #expect(record.phase == .partiallyFailed && record.commit == "c0ffee" && record.lockID == "lock-1")
        #expect(
            record.filter.includeNamespaces == ["shop", "prod-*"] && record.filter.includeClusterResources == false)
        #expect(record.volumes.first?.podVolume?.display == "shop/web/data")
        #expect(record.volumes.last?.skipped == "no such directory")
        #expect(record.hooks?.first?.exitCode == 0)
        #expect(record.volumePathMap.localPath("/var/lib/x") == "/mnt/node1/x")
        #expect(record.owner == .backup("nightly", commit: "c0ffee"))
    }

    @Test("a restore record, with its options and hook rules, reads and writes back byte for byte")
    func restore() throws {
        let record = try Self.roundTrip(RestoreRecord.self, GoldenRecords.restore)
        #expect(record.backup == "nightly" && record.backupCommit == "c0ffee" && record.phase == .partiallyFailed)
        #expect(record.options.namespaceMappings == ["shop": "shop-copy"])
        let exec = try #require(record.options.hooks?.rules.first?.exec.first)
        #expect(exec.waitTimeout == .seconds(120) && exec.hook.timeout == .seconds(30) && exec.waitForReady)
        #expect(record.items.map(\.outcome) == [.created, .failed])
        #expect(record.volumes.first?.bytes == 1000)
    }

    @Test("a resource manifest and its record read and write back byte for byte")
    func manifest() throws {
        let manifest = try Self.roundTrip(ResourceManifest.self, GoldenRecords.manifest)
        #expect(manifest.objectCount == 1 && manifest.streams.first?.resource.qualifiedName == "deployments.apps")
        let record = try Self.roundTrip(ResourceManifestRecord.self, GoldenRecords.manifestRecord)
        #expect(record.commit == "c0ffee" && record.manifest == manifest.streams.first?.chunks)
    }

    @Test("restore options written before a field existed read with that field's default")
    func olderOptions() throws {
        let options = try StoreJSON.decode(
            RestoreOptions.self, from: Array(#"{"includeNamespaces":["shop"]}"#.utf8), key: "old")
        #expect(options.includeNamespaces == ["shop"])
        #expect(options.veleroNamespace == "velero" && options.namespaceTerminatingTimeout == 600)
        #expect(options.existingResourcePolicy == .none && options.hooks == nil)
    }
}
