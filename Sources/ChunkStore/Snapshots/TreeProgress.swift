import Synchronization

/// Live counters of a tree backup or restore, read by a progress display while the work runs.
public final class TreeProgress: Sendable {
    private let files = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)
    private let total = Atomic<Int>(0)
    private let read = Atomic<Int>(0)

    public init() {}

    public var filesDone: Int { files.load(ordering: .relaxed) }
    public var bytesDone: Int { bytes.load(ordering: .relaxed) }
    /// Bytes read from the source so far (a backup reads ahead of what it has stored, `bytesDone`).
    public var bytesRead: Int { read.load(ordering: .relaxed) }
    /// Total bytes expected, once known (0 before).
    public var bytesTotal: Int { total.load(ordering: .relaxed) }

    func setTotal(_ value: Int64) { total.store(Int(value), ordering: .relaxed) }
    func addFile() { files.add(1, ordering: .relaxed) }
    func addBytes(_ count: Int) { bytes.add(count, ordering: .relaxed) }
    func addRead(_ count: Int) { read.add(count, ordering: .relaxed) }
}
