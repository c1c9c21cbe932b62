import Synchronization

/// Live counters of a collection, for a progress line.
public final class CollectionProgress: Sendable {
    private let types = Atomic<Int>(0)
    private let typesTotal = Atomic<Int>(0)
    private let objectCount = Atomic<Int>(0)
    private let byteCount = Atomic<Int>(0)

    public init() {}

    public var typesDone: Int { types.load(ordering: .relaxed) }
    public var totalTypes: Int { typesTotal.load(ordering: .relaxed) }
    public var objects: Int { objectCount.load(ordering: .relaxed) }
    public var bytes: Int { byteCount.load(ordering: .relaxed) }

    func setTotalTypes(_ count: Int) { typesTotal.store(count, ordering: .relaxed) }
    func typeDone() { types.add(1, ordering: .relaxed) }
    func add(objects: Int, bytes: Int) {
        objectCount.add(objects, ordering: .relaxed)
        byteCount.add(bytes, ordering: .relaxed)
    }
}
