import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Operations
import Restorer
import SystemIO
import VeleroAPI

/// A file a DownloadRequest asks for, made from the store as Velero's object store layout holds it: gzip-compressed
/// (logs `<name>-logs.gz`, contents `<name>.tar.gz`, JSON `…json.gz`), decrypted, so a client with only the URL can
/// read it.
struct DownloadFile: Sendable {
    var name: String
    var bytes: [UInt8]
}

/// Why a DownloadRequest gets no URL; the message goes into its status.
struct DownloadUnavailable: Error, CustomStringConvertible {
    var description: String
}

enum DownloadContent {
    /// The file for `target` from `repository`, or `DownloadUnavailable` saying why there is none.
    static func make(_ target: DownloadRequest.Target, repository: Repository, scratch: String) async throws
        -> DownloadFile
    {
        let name = target.name
        switch target.kind {
        case .backupLog:
            // A backup that failed before it had a record still has its log.
            if let log = try await RunLogStore.read(key: BackupRecord.logKey(name), repository: repository) {
                return try gzipped("\(name)-logs.gz", log)
            }
            return try gzipped("\(name)-logs.gz", Array(summaryLog(try await backupRecord(name, repository)).utf8))
        case .backupContents:
            let record = try await backupRecord(name, repository)
            guard record.phase.isRestorable, let manifestName = record.resourceManifest else {
                throw DownloadUnavailable(
                    description: "backup '\(name)' is \(record.phase.rawValue) and has no contents to download")
            }
            let reader = ResourceReader(repository: repository)
            let manifest = try await reader.manifest(named: manifestName)
            // Written to a private scratch file by the tarball writer, then read whole: the store's put takes the
            // object's bytes (so a large backup's contents are held in memory while they are staged).
            let path = "\(scratch)/\(UUID().uuidString).tar.gz"
            _ = try await BlockingPool.shared.run { try FileSystem.makeDirectories(scratch, mode: 0o700) }
            do {
                _ = try await BackupTarball.write(manifest, reader: reader, to: path, overwrite: false)
                let bytes = try await BlockingPool.shared.run { try FileSystem.readFile(path) }
                try? await BlockingPool.shared.run { try FileSystem.removeFile(path) }
                return DownloadFile(name: "\(name).tar.gz", bytes: bytes)
            } catch {
                try? await BlockingPool.shared.run { try FileSystem.removeFile(path) }
                throw error
            }
        case .backupResourceList:
            let record = try await backupRecord(name, repository)
            guard let manifestName = record.resourceManifest else {
                throw DownloadUnavailable(description: "backup '\(name)' has no resource list")
            }
            let manifest = try await ResourceReader(repository: repository).manifest(named: manifestName)
            var list: [String: [String]] = [:]
            for stream in manifest.streams where !stream.objects.isEmpty {
                list[listKey(stream.resource), default: []] += stream.objects.map {
                    ($0.namespace.map { "\($0)/" } ?? "") + $0.name
                }
            }
            return try json("\(name)-resource-list.json.gz", list)
        case .backupResults:
            let record = try await backupRecord(name, repository)
            return try json("\(name)-results.gz", RunResults(backup: record))
        case .backupVolumeInfos:
            let record = try await backupRecord(name, repository)
            return try json("\(name)-volumeinfo.json.gz", record.volumes.map(BackupVolumeInfo.init))
        case .restoreLog:
            let record = try await restoreRecord(name, repository)
            let log = try await RunLogStore.read(key: RestoreRecord.logKey(name), repository: repository)
            return try gzipped("restore-\(name)-logs.gz", log ?? Array(summaryLog(record).utf8))
        case .restoreResults:
            let record = try await restoreRecord(name, repository)
            return try json("restore-\(name)-results.gz", RunResults(restore: record))
        case .restoreResourceList:
            let record = try await restoreRecord(name, repository)
            let keys = await listKeys(restoring: record, repository)
            var list: [String: [String]] = [:]
            for item in record.items {
                list[keys[item.resource] ?? item.resource, default: []].append(
                    (item.namespace.map { "\($0)/" } ?? "") + item.name + "(\(item.outcome.rawValue))")
            }
            return try json("restore-\(name)-resource-list.json.gz", list)
        case .backupVolumeSnapshots, .backupItemOperations, .csiBackupVolumeSnapshots,
            .csiBackupVolumeSnapshotContents:
            // velero-cas takes no cloud or CSI snapshots and runs no asynchronous item operations: none to list.
            _ = try await backupRecord(name, repository)
            return try json("\(name)-\(target.kind.rawValue.lowercased()).json.gz", [String]())
        case .restoreItemOperations:
            _ = try await restoreRecord(name, repository)
            return try json("restore-\(name)-itemoperations.json.gz", [String]())
        default:
            throw DownloadUnavailable(description: "velero-cas does not serve \(target.kind.rawValue) files")
        }
    }

    /// How Velero's resource lists name a kind: "apps/v1/Deployment", "v1/ConfigMap".
    private static func listKey(_ resource: APIResource) -> String { "\(resource.groupVersion)/\(resource.kind)" }

    /// The list keys of the resources (by qualified name, as a restore's items name them) of the backup a restore
    /// came from; empty when that backup's manifest cannot be read (the items then keep their resource names).
    private static func listKeys(restoring record: RestoreRecord, _ repository: Repository) async -> [String: String] {
        guard let backup = try? await repository.record(BackupRecord.self, key: BackupRecord.key(record.backup)),
            record.backupCommit == nil || backup.commit == record.backupCommit,
            let manifestName = backup.resourceManifest,
            let manifest = try? await ResourceReader(repository: repository).manifest(named: manifestName)
        else { return [:] }
        var keys: [String: String] = [:]
        for stream in manifest.streams { keys[stream.resource.qualifiedName] = listKey(stream.resource) }
        return keys
    }

    private static func backupRecord(_ name: String, _ repository: Repository) async throws -> BackupRecord {
        guard let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) else {
            throw DownloadUnavailable(description: "backup '\(name)' is not in \(repository.store.location)")
        }
        return record
    }

    private static func restoreRecord(_ name: String, _ repository: Repository) async throws -> RestoreRecord {
        guard let record = try await repository.record(RestoreRecord.self, key: RestoreRecord.key(name)) else {
            throw DownloadUnavailable(description: "restore '\(name)' is not in \(repository.store.location)")
        }
        return record
    }

    /// What the record says, for a backup or restore that has no stored log (made by another tool, or before logs
    /// were stored).
    private static func summaryLog(_ record: BackupRecord) -> String {
        var lines = [
            "backup \(record.name): no log was stored with this backup; its record says:",
            "phase: \(record.phase.rawValue)", "started: \(KubeTime.format(record.startTimestamp))",
        ]
        if let completed = record.completionTimestamp { lines.append("completed: \(KubeTime.format(completed))") }
        lines.append("items backed up: \(record.itemsBackedUp)")
        lines += record.errors.map { "error: \($0)" } + record.warnings.map { "warning: \($0)" }
        return lines.map { $0 + "\n" }.joined()
    }

    private static func summaryLog(_ record: RestoreRecord) -> String {
        var lines = [
            "restore \(record.name) of backup \(record.backup): no log was stored with this restore; its record says:",
            "phase: \(record.phase.rawValue)", "started: \(KubeTime.format(record.startTimestamp))",
            "completed: \(KubeTime.format(record.completionTimestamp))",
            "created: \(record.created), updated: \(record.updated), skipped: \(record.skipped), failed: \(record.failed)",
        ]
        lines += record.errors.map { "error: \($0)" } + record.warnings.map { "warning: \($0)" }
        return lines.map { $0 + "\n" }.joined()
    }

    private static func json<T: Encodable>(_ name: String, _ value: T) throws -> DownloadFile {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try gzipped(name, Array(try encoder.encode(value)))
    }

    private static func gzipped(_ name: String, _ bytes: [UInt8]) throws -> DownloadFile {
        DownloadFile(name: name, bytes: try RunLogStore.compress(bytes))
    }
}
