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

    /// "12/30 resource types, 45210 objects (220.4 MB, 12.5 MB/s), 18250 objects/s, ETA 9s" for progress displays
    /// and logs. The ETA assumes the remaining types take as long as the finished ones did on average.
    public func line(since start: ContinuousClock.Instant) -> String {
        let elapsed = Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000
        let rate = elapsed > 0 ? Int(Double(objects) / elapsed) : 0
        let megabytes = (Double(bytes) / 1e6 * 10).rounded() / 10
        let throughput = elapsed > 0 ? (Double(bytes) / 1e6 / elapsed * 10).rounded() / 10 : 0
        var line =
            "\(typesDone)/\(totalTypes) resource types, \(objects) objects (\(megabytes) MB, \(throughput) MB/s), \(rate) objects/s"
        if typesDone > 0 && totalTypes > typesDone {
            line += ", ETA \(Int((elapsed / Double(typesDone) * Double(totalTypes - typesDone)).rounded()))s"
        }
        return line
    }

    func setTotalTypes(_ count: Int) { typesTotal.store(count, ordering: .relaxed) }
    func typeDone() { types.add(1, ordering: .relaxed) }
    func add(objects: Int, bytes: Int) {
        objectCount.add(objects, ordering: .relaxed)
        byteCount.add(bytes, ordering: .relaxed)
    }
}
