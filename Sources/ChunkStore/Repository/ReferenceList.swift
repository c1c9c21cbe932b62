import Foundation

/// A commit's identity: 32 random hex digits, made when a backup or snapshot starts. Names are reused all the time
/// (`nightly`, schedules, `<backup>.pv.<pv>`), so the reference state never keys anything by name: deleting and
/// recreating a name makes a new owner with a new identity, and the old owner's lists, counts and journals can never
/// be confused with the new one's.
public enum CommitID {
    public static func make() -> String {
        (0..<2).map { _ in
            let hex = String(UInt64.random(in: .min ... .max), radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// One committed snapshot or backup as the reference state knows it: its kind, its name, and its commit identity.
///
/// Its keys are named by the commit alone: the sorted chunk list `refs/lists/<commit>`, the pending marker
/// `refs/pending/<commit>` (until garbage collection adds the list to the counts) and the journal
/// `refs/expiring/<commit>` (while its expiry is under way). Markers and journals hold the owner itself, so garbage
/// collection can check that the record of that name still names this commit before it acts.
public struct ReferenceOwner: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable { case snapshot, backup }

    public var kind: Kind
    public var name: String
    public var commit: String

    public init(kind: Kind, name: String, commit: String) {
        self.kind = kind
        self.name = name
        self.commit = commit
    }

    public static func snapshot(_ name: String, commit: String) -> ReferenceOwner {
        ReferenceOwner(kind: .snapshot, name: name, commit: commit)
    }

    public static func backup(_ name: String, commit: String) -> ReferenceOwner {
        ReferenceOwner(kind: .backup, name: name, commit: commit)
    }

    public var listKey: String { "refs/lists/\(commit)" }
    public var pendingKey: String { "refs/pending/\(commit)" }
    public var journalKey: String { "refs/expiring/\(commit)" }
    /// The reference-count operations of this owner: added once, removed once.
    public var incrementOperation: String { "+\(commit)" }
    public var decrementOperation: String { "-\(commit)" }

    public var description: String { "\(kind.rawValue) \(name)" }
}

public enum ReferenceList {
    /// Stores the owner's pending marker and its chunk ids (sorted, 32 bytes each). Part of a commit, so the locks
    /// the task holds are checked, against the store too, before it returns.
    /// With `requireStored` (every writer), each chunk must be in a pack an index object names first.
    public static func write(
        _ ids: some Sequence<ChunkID>, owner: ReferenceOwner, repository: Repository, requireStored: Bool = true
    ) async throws {
        try await store(Set(ids).sorted(), owner: owner, repository: repository, requireStored: requireStored)
    }

    /// `write` and then `Repository.commitRecord` of the record `record` makes, in fewer round trips: the lock check
    /// that the record needs runs beside the list's write and the index's (all after the packs are uploaded and
    /// before the record is sent), so the commit point is still checked against the store just before it.
    /// `whileStoring` is the caller's own wait for its uploads, which the pending marker's write overlaps; `record`
    /// is called once the data is stored. Returns the record written.
    public static func commit<T: Encodable & Sendable>(
        key: String, references ids: some Sequence<ChunkID>, owner: ReferenceOwner, repository: Repository,
        whileStoring: () async throws -> Void = {}, record: () throws -> T
    ) async throws -> T {
        try await store(
            Set(ids).sorted(), owner: owner, repository: repository, requireStored: true, whileStoring: whileStoring)
        let value = try record()
        try await repository.writeRecord(value, key: key)
        return value
    }

    /// The marker, the chunks and the list, in two round trips on an object store: the pending marker while the last
    /// packs upload (and while `whileStoring` runs), then the list, the index of those packs and the lock's check
    /// against the store together.
    ///
    /// What must stay in order does: the marker is durable before the list is written (garbage collection counts a
    /// list without a marker as counted), the packs are uploaded before their index, and the lock is checked against
    /// the store after the data is uploaded and before the caller's record. The marker needs no check of the store
    /// before it (only the local one): garbage collection discards a marker whose record never came, with its
    /// list, which is what a crash before the record leaves anyway. The list needs neither the index nor the check:
    /// without a record it counts for nothing. Were a step to fail, the list and then the marker go again.
    private static func store(
        _ sorted: [ChunkID], owner: ReferenceOwner, repository: Repository, requireStored: Bool,
        whileStoring: () async throws -> Void = {}
    ) async throws {
        try StoreLock.checkHeld()
        async let marked: Void = {
            try await repository.store.put(owner.pendingKey, try StoreJSON.encode(owner, pretty: false))
            try await repository.store.sync()
        }()
        do {
            try await whileStoring()
            if requireStored { try await repository.uploadPacks() }
        } catch {
            if (try? await marked) != nil { try? await repository.store.delete(owner.pendingKey) }
            throw error
        }
        async let held: Void = StoreLock.ensureHeld()
        async let stored: Void = requireStored ? repository.ensureStored(sorted) : ()
        var listed = false
        do {
            try await marked
            try await repository.store.put(owner.listKey, encode(sorted))
            listed = true
            try await stored
            try await held
        } catch {
            _ = try? await stored
            _ = try? await held
            let listGone = listed ? (try? await repository.store.delete(owner.listKey)) != nil : true
            if listGone { try? await repository.store.delete(owner.pendingKey) }
            throw error
        }
    }

    /// A list's bytes: the sorted ids, 32 bytes each.
    private static func encode(_ sorted: [ChunkID]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sorted.count * 32)
        for id in sorted {
            withUnsafeBytes(of: id.words.0.bigEndian) { bytes += $0 }
            withUnsafeBytes(of: id.words.1.bigEndian) { bytes += $0 }
            withUnsafeBytes(of: id.words.2.bigEndian) { bytes += $0 }
            withUnsafeBytes(of: id.words.3.bigEndian) { bytes += $0 }
        }
        return bytes
    }

    /// The owner's chunk ids, or nil when it has no list.
    public static func read(_ owner: ReferenceOwner, repository: Repository) async throws -> [ChunkID]? {
        let bytes: [UInt8]
        do {
            bytes = try await repository.store.get(owner.listKey)
        } catch ChunkStoreError.objectNotFound {
            return nil
        }
        guard bytes.count % 32 == 0 else {
            throw ChunkStoreError.corruptRecord(
                key: owner.listKey, reason: "length \(bytes.count) is not a multiple of 32")
        }
        return bytes.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count, by: 32).map {
                ChunkID(digest: UnsafeRawBufferPointer(rebasing: raw[$0..<$0 + 32]))
            }
        }
    }

    /// The owner a pending marker or journal names, or nil when the object is gone.
    public static func marker(_ key: String, repository: Repository) async throws -> ReferenceOwner? {
        do {
            let owner = try StoreJSON.decode(ReferenceOwner.self, from: try await repository.store.get(key), key: key)
            guard CommitID.isValid(owner.commit), key.hasSuffix("/" + owner.commit) else {
                throw ChunkStoreError.corruptRecord(key: key, reason: "names commit '\(owner.commit)'")
            }
            return owner
        } catch ChunkStoreError.objectNotFound {
            return nil
        }
    }
}
