/// What a committed snapshot or backup references, for reference counting (see docs/gc-design.md).
///
/// Written just before the owner's final record (so every committed owner has one), together with a pending marker:
/// the next garbage collection adds the list to the reference counts and removes the marker. Writers never touch the
/// counts themselves, so they need only a shared lock.
public enum ReferenceOwner: Hashable, Sendable, CustomStringConvertible {
    case snapshot(String)
    case backup(String)

    var path: String {
        switch self {
        case .snapshot(let name): "snapshots/\(name)"
        case .backup(let name): "backups/\(name)"
        }
    }

    public var listKey: String { "refs/lists/\(path)" }
    public var pendingKey: String { "refs/pending/\(path.replacingOccurrences(of: "/", with: "-"))" }
    public var journalKey: String { "refs/expiring/\(path.replacingOccurrences(of: "/", with: "-"))" }

    /// Parses a pending or journal key's last component back into an owner.
    public init?(marker name: String) {
        if name.hasPrefix("snapshots-") {
            self = .snapshot(String(name.dropFirst("snapshots-".count)))
        } else if name.hasPrefix("backups-") {
            self = .backup(String(name.dropFirst("backups-".count)))
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .snapshot(let name): "snapshot \(name)"
        case .backup(let name): "backup \(name)"
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

public enum ReferenceList {
    /// Stores the owner's chunk ids (sorted, 32 bytes each) and its pending marker.
    public static func write(_ ids: some Sequence<ChunkID>, owner: ReferenceOwner, repository: Repository) async throws
    {
        var bytes: [UInt8] = []
        for id in Set(ids).sorted() {
            withUnsafeBytes(of: id.words.0.bigEndian) { bytes += $0 }
            withUnsafeBytes(of: id.words.1.bigEndian) { bytes += $0 }
            withUnsafeBytes(of: id.words.2.bigEndian) { bytes += $0 }
            withUnsafeBytes(of: id.words.3.bigEndian) { bytes += $0 }
        }
        try await repository.store.put(owner.listKey, bytes)
        try await repository.store.put(owner.pendingKey, [])
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
}
