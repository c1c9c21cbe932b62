import Synchronization

/// Results of parallel work, collected by position so they come out in submission order.
///
/// Lets a discarding task group (which frees each child as soon as it finishes) still return ordered results.
final class OrderedResults<Value: Sendable>: Sendable {
    private let slots: Mutex<[Value?]>

    init(count: Int = 0) {
        slots = Mutex([Value?](repeating: nil, count: count))
    }

    /// Appends an empty slot and returns its position.
    func reserve() -> Int {
        slots.withLock { slots in
            slots.append(nil)
            return slots.count - 1
        }
    }

    func set(_ index: Int, _ value: Value) {
        slots.withLock { $0[index] = value }
    }

    /// Every value in order; call after all work has finished successfully.
    func values() -> [Value] {
        slots.withLock { $0.map { $0! } }
    }
}
