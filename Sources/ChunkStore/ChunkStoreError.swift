import SystemIO

/// What went wrong in the store, worded so the user can act on it.
public enum ChunkStoreError: Error, CustomStringConvertible, Sendable {
    case corruptChunk(id: ChunkID, key: String, reason: String)
    case missingChunk(id: ChunkID, key: String)
    case objectNotFound(key: String, store: String)
    case shortRead(key: String, store: String, wanted: Range<Int>, size: Int)
    case notStored(chunks: Int, first: ChunkID, reason: String)
    case repositoryNotFound(store: String)
    case unsupportedRepository(store: String, reason: String)
    case invalidStoreLocation(String, reason: String)
    case invalidName(String, reason: String)
    case invalidObjectKey(String)
    case snapshotNotFound(name: String, store: String)
    case snapshotExists(name: String, store: String)
    case corruptRecord(key: String, reason: String)
    case unsafeManifestPath(path: String, reason: String)
    case targetNotEmpty(path: String)
    case sourceUnreadable(path: String, reason: String)
    case system(SystemError)
    /// An encrypted object did not authenticate: changed, damaged, or moved from another key.
    case tampered(key: String, store: String)
    /// The store is encrypted and no password was given.
    case passwordRequired(store: String, reason: String)
    /// No key of the store opens with the password.
    case wrongPassword(store: String, source: String)
    /// A key object cannot be used.
    case keyUnusable(key: String, reason: String)
    /// Another process created the store at the same moment as this one (`Repository.openOrCreate`).
    case storeCreatedConcurrently(store: String)

    public var description: String {
        switch self {
        case .corruptChunk(let id, let key, let reason): "chunk \(id) (object '\(key)') is corrupt: \(reason)"
        case .missingChunk(let id, let key): "chunk \(id) is missing from the store (object '\(key)')"
        case .objectNotFound(let key, let store): "object '\(key)' not found in \(store)"
        case .notStored(let chunks, let first, let reason):
            "\(chunks) chunk(s) this commit needs (first \(first)) are not in the store's index: \(reason)"
        case .shortRead(let key, let store, let wanted, let size):
            "object '\(key)' in \(store) holds \(size) bytes, too few for bytes \(wanted.lowerBound)..<\(wanted.upperBound)"
        case .repositoryNotFound(let store):
            "no velero-cas store at \(store) (missing 'config'); back something up into it first or check the path"
        case .unsupportedRepository(let store, let reason): "the store at \(store) cannot be used: \(reason)"
        case .invalidStoreLocation(let location, let reason): "invalid store location '\(location)': \(reason)"
        case .invalidName(let name, let reason): "invalid name '\(name)': \(reason)"
        case .invalidObjectKey(let key): "invalid object key '\(key)'"
        case .snapshotNotFound(let name, let store): "snapshot '\(name)' not found in \(store)"
        case .snapshotExists(let name, let store): "snapshot '\(name)' already exists in \(store)"
        case .corruptRecord(let key, let reason): "record '\(key)' is damaged: \(reason)"
        case .unsafeManifestPath(let path, let reason): "refusing manifest path '\(path)': \(reason)"
        case .targetNotEmpty(let path):
            "restore target '\(path)' is not empty; choose an empty directory or pass --overwrite"
        case .sourceUnreadable(let path, let reason): "cannot read '\(path)': \(reason)"
        case .system(let error): error.description
        case .tampered(let key, let store):
            "object '\(key)' in \(store) is corrupt: it does not authenticate, so it was changed or damaged after it was written"
        case .passwordRequired(let store, let reason): "the store at \(store) is encrypted: \(reason)"
        case .wrongPassword(let store, let source):
            "no key of the store at \(store) opens with the password from \(source); check the password"
        case .keyUnusable(let key, let reason): "key '\(key)' cannot be used: \(reason)"
        case .storeCreatedConcurrently(let store):
            "another process created the store at \(store) at the same moment as this one; nothing was stored with this process's key (but its key object): run the command again to use that store"
        }
    }

    /// Whether this is one stored record that cannot be read (it does not decode, or does not authenticate), as
    /// opposed to a store that cannot be reached or used at all.
    public var isDamagedRecord: Bool {
        switch self {
        case .corruptRecord, .tampered: true
        default: false
        }
    }
}
