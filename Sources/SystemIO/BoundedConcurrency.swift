import Synchronization

/// How many of some piece of work run at once, and the most that ever did (for logs and tests).
public final class ConcurrencyGauge: Sendable {
    private let counts = Mutex((current: 0, peak: 0))

    public init() {}

    public var current: Int { counts.withLock { $0.current } }
    public var peak: Int { counts.withLock { $0.peak } }

    /// Counts `body` as running while it runs.
    public func measure<T: Sendable>(_ body: () async -> T) async -> T {
        counts.withLock {
            $0.current += 1
            $0.peak = max($0.peak, $0.current)
        }
        defer { counts.withLock { $0.current -= 1 } }
        return await body()
    }
}

extension Collection where Element: Sendable {
    /// `body` for every element, at most `width` at once (a new one starts as one ends), results in the
    /// collection's order. For work that holds resources per item (open files, buffers): memory follows `width`,
    /// not the number of items.
    public func concurrentMap<T: Sendable>(
        width: Int, gauge: ConcurrencyGauge = ConcurrencyGauge(), _ body: @escaping @Sendable (Element) async -> T
    ) async -> [T] {
        precondition(width > 0, "at least one item must be able to run")
        return await withTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: count)
            var pending = enumerated().makeIterator()
            func startNext() -> Bool {
                guard let (index, element) = pending.next() else { return false }
                group.addTask { (index, await gauge.measure { await body(element) }) }
                return true
            }
            var started = 0
            while started < width, startNext() { started += 1 }
            while let (index, result) = await group.next() {
                results[index] = result
                _ = startNext()
            }
            return results.map { $0! }
        }
    }
}
