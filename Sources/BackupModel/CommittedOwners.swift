import ChunkStore
import Foundation

/// What counts as committed, defined once for garbage collection and verification alike (so `gc --orphans`
/// followed by `verify` can never disagree):
/// - a snapshot whose record exists (the record is written last);
/// - a backup whose record is Completed or PartiallyFailed, with the resource manifest of the same commit.
/// An owner whose expiry is under way (its journal exists) is no longer committed: its chunks may already be gone.
public enum CommittedOwners {
    /// One committed owner and the record keys that make it so.
    public struct Entry: Sendable {
        public var owner: ReferenceOwner
        /// The manifest chunks to read its references from (tree manifest or resource manifest blob).
        public var manifest: [ChunkRef]
        public var recordKey: String
        /// For a backup: the volume snapshots it names, which must exist as long as it does.
        public var volumeSnapshots: [String] = []
        /// For a snapshot: the commit of the backup it holds a volume of.
        public var backupCommit: String?

        public init(
            owner: ReferenceOwner, manifest: [ChunkRef], recordKey: String, volumeSnapshots: [String] = [],
            backupCommit: String? = nil
        ) {
            self.owner = owner
            self.manifest = manifest
            self.recordKey = recordKey
            self.volumeSnapshots = volumeSnapshots
            self.backupCommit = backupCommit
        }
    }

    /// Commits whose expiry is under way.
    public static func expiring(_ repository: Repository) async throws -> Set<String> {
        Set(
            try await repository.store.listAll(prefix: "refs/expiring/").map {
                String($0.key.dropFirst("refs/expiring/".count))
            })
    }

    /// Every committed owner (reads every snapshot and backup record: the full-scan path, for verify and rebuilds).
    /// Records without a commit identity (written before they existed) are returned with `commit` empty.
    public static func all(_ repository: Repository) async throws -> [Entry] {
        let expiring = try await expiring(repository)
        var entries: [Entry] = []
        for object in try await repository.store.listAll(prefix: "snapshots/") where object.key.hasSuffix(".json") {
            guard let snapshot = try await repository.record(Snapshot.self, key: object.key) else { continue }
            let commit = snapshot.commit ?? ""
            if expiring.contains(commit) { continue }
            entries.append(
                Entry(
                    owner: .snapshot(snapshot.name, commit: commit), manifest: snapshot.manifest,
                    recordKey: object.key, backupCommit: snapshot.backupCommit))
        }
        for backup in try await BackupRecord.list(repository) where backup.phase.isRestorable {
            let commit = backup.commit ?? ""
            if expiring.contains(commit) { continue }
            guard let entry = try await entry(for: backup, repository: repository) else { continue }
            entries.append(entry)
        }
        return entries
    }

    /// The committed owner a backup record stands for, or nil when its resource manifest is not of its commit.
    public static func entry(for backup: BackupRecord, repository: Repository) async throws -> Entry? {
        guard backup.phase.isRestorable,
            let manifest = try await repository.record(
                ResourceManifestRecord.self, key: ResourceManifestRecord.key(backup.name)),
            manifest.commit == backup.commit
        else { return nil }
        return Entry(
            owner: .backup(backup.name, commit: backup.commit ?? ""), manifest: manifest.manifest,
            recordKey: BackupRecord.key(backup.name), volumeSnapshots: backup.volumes.compactMap(\.snapshot))
    }

    /// Whether the record named by `owner` still names its commit (and, for a backup, is restorable).
    public static func isCommitted(_ owner: ReferenceOwner, repository: Repository) async throws -> Bool {
        switch owner.kind {
        case .snapshot:
            return try await repository.record(Snapshot.self, key: Snapshot.key(owner.name))?.commit == owner.commit
        case .backup:
            guard let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(owner.name)),
                record.commit == owner.commit
            else { return false }
            return try await entry(for: record, repository: repository) != nil
        }
    }

    /// Every chunk an owner references, with lengths, read from its manifests (the source the reference lists can
    /// always be rebuilt from).
    public static func referencedChunks(_ entry: Entry, repository: Repository) async throws -> [ChunkRef] {
        var refs = entry.manifest
        switch entry.owner.kind {
        case .snapshot:
            let entries = try TreeManifest.decode(try await repository.readBlob(entry.manifest), key: entry.recordKey)
            for item in entries { refs += item.chunks ?? [] }
        case .backup:
            let manifest = try StoreJSON.decode(
                ResourceManifest.self, from: try await repository.readBlob(entry.manifest), key: entry.recordKey)
            for stream in manifest.streams { refs += stream.chunks }
        }
        return refs
    }
}
