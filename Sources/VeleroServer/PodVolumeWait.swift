import BackupModel
import ChunkStore
import Collectors
import Foundation
import VeleroAPI

extension PodVolumeStep {
    /// Polls the backup's PodVolumeBackups until every one is Completed or Failed, or the timeout passes; logs the
    /// bytes done meanwhile. Each becomes a volume record: a Completed one's snapshot must be in the store and of
    /// this backup's commit, else the volume is failed with what is wrong. `finished` hears each object's name as it
    /// ends (the pods' post hooks run then).
    func wait(
        for created: [Created], commit: String, finished: (@Sendable (String) -> Void)? = nil
    ) async throws -> [VolumeRecord] {
        guard !created.isEmpty else { return [] }
        let report = finished
        let access = ObjectAccess<PodVolumeBackup>(client: server.client, namespace: server.configuration.namespace)
        let deadline = ContinuousClock.now + server.configuration.podVolumeOperationTimeout
        var finished: [String: PodVolumeBackup] = [:]
        var lastLogged = ContinuousClock.now
        while finished.count < created.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: server.configuration.podVolumePollInterval)
            var bytesDone: Int64 = 0
            var bytesTotal: Int64 = 0
            for item in created where finished[item.name] == nil {
                guard let object = try await access.get(item.name) else { continue }
                if object.phase.isFinal {
                    finished[item.name] = object
                    report?(item.name)
                }
                bytesDone += object.status?.progress?.bytesDone ?? 0
                bytesTotal += object.status?.progress?.totalBytes ?? 0
            }
            if ContinuousClock.now - lastLogged >= .seconds(10) {
                lastLogged = .now
                server.logger.info(
                    "backup \(backup.name): \(finished.count) of \(created.count) pod volumes done; running ones at \(bytesDone) of \(bytesTotal) bytes"
                )
            }
        }
        var records: [VolumeRecord] = []
        for item in created {
            var record = VolumeRecord.unreachable(
                persistentVolume: item.persistentVolume ?? "", claim: item.claim, path: "",
                reason:
                    "no node agent finished it within \(server.configuration.podVolumeOperationTimeout) (is a node agent running on node \(item.source.node)?)"
            )
            record.podVolume = item.source
            if let object = finished[item.name] {
                record.path = object.status?.path ?? ""
                if let start = object.status?.startTimestamp, let end = object.status?.completionTimestamp {
                    record.seconds = end.timeIntervalSince(start)
                }
                if object.phase == .completed {
                    record.skipped = nil
                    try await adopt(object, into: &record, commit: commit)
                } else {
                    record.skipped = object.status?.message ?? "the node agent reported \(object.phase.rawValue)"
                }
            }
            records.append(record)
        }
        return records
    }

    /// Fills in a Completed volume from its snapshot in the store.
    private func adopt(_ object: PodVolumeBackup, into record: inout VolumeRecord, commit: String) async throws {
        guard let name = object.status?.snapshotID, !name.isEmpty else {
            record.skipped = "the node agent reported Completed without a snapshot"
            return
        }
        guard let snapshot = try await location.repository.record(Snapshot.self, key: Snapshot.key(name)) else {
            record.skipped = "snapshot \(name) reported by the node agent is not in the store"
            return
        }
        guard snapshot.backupCommit == commit else {
            record.skipped = "snapshot \(name) belongs to another backup"
            return
        }
        record.snapshot = name
        record.files = snapshot.summary.files
        record.logicalBytes = snapshot.summary.logicalBytes
        record.newStoredBytes = snapshot.summary.newStoredBytes
    }
}
