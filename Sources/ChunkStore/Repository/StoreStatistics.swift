import Synchronization

/// Counters of what a run put into the store; safe to update from many tasks.
public final class StoreStatistics: Sendable {
    public struct Snapshot: Sendable, Codable, Equatable {
        /// Plain bytes handed to the store, duplicates included.
        public var logicalBytes: Int64 = 0
        /// Plain bytes of chunks this run wrote.
        public var newPlainBytes: Int64 = 0
        /// Encoded (compressed) bytes this run wrote.
        public var newStoredBytes: Int64 = 0
        public var newChunks: Int = 0
        public var reusedChunks: Int = 0
        /// Encoded bytes read back (restores).
        public var readStoredBytes: Int64 = 0
        public var readChunks: Int = 0

        /// Logical bytes per newly stored byte.
        public var dedupRatio: Double { newStoredBytes == 0 ? 0 : Double(logicalBytes) / Double(newStoredBytes) }
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var current: Snapshot { state.withLock { $0 } }

    func recordPut(plainBytes: Int, storedBytes: Int?) {
        state.withLock {
            $0.logicalBytes += Int64(plainBytes)
            if let storedBytes {
                $0.newChunks += 1
                $0.newPlainBytes += Int64(plainBytes)
                $0.newStoredBytes += Int64(storedBytes)
            } else {
                $0.reusedChunks += 1
            }
        }
    }

    func recordReused(plainBytes: Int64, chunks: Int) {
        state.withLock {
            $0.logicalBytes += plainBytes
            $0.reusedChunks += chunks
        }
    }

    func recordRead(storedBytes: Int) {
        state.withLock {
            $0.readStoredBytes += Int64(storedBytes)
            $0.readChunks += 1
        }
    }
}
