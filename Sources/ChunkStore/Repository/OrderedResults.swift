import Synchronization

/// Results of parallel work, collected by position so they come out in submission order.
///
/// Lets a discarding task group (which frees each child as soon as it finishes) still return ordered results, and
/// tells a waiting party once every value is in (`close(whenComplete:)`), which may be before the children end.
final class OrderedResults<Value: Sendable>: Sendable {
    private struct State {
        var slots: [Value?]
        var unset: Int
        var whenComplete: (@Sendable ([Value]) -> Void)?
    }

    private let state: Mutex<State>

    init(count: Int = 0) {
        state = Mutex(State(slots: [Value?](repeating: nil, count: count), unset: count))
    }

    /// Appends an empty slot and returns its position.
    func reserve() -> Int {
        state.withLock { state in
            state.slots.append(nil)
            state.unset += 1
            return state.slots.count - 1
        }
    }

    func set(_ index: Int, _ value: Value) {
        let complete = state.withLock { state -> (@Sendable ([Value]) -> Void, [Value])? in
            if state.slots[index] == nil { state.unset -= 1 }
            state.slots[index] = value
            guard state.unset == 0, let body = state.whenComplete else { return nil }
            state.whenComplete = nil
            return (body, state.slots.map { $0! })
        }
        if let (body, values) = complete { body(values) }
    }

    /// No more slots will be reserved: `body` gets every value in order once all are set (now, if they are). It is
    /// not called when some never is (the work failed).
    func close(whenComplete body: @escaping @Sendable ([Value]) -> Void) {
        let values = state.withLock { state -> [Value]? in
            guard state.unset == 0 else {
                state.whenComplete = body
                return nil
            }
            return state.slots.map { $0! }
        }
        if let values { body(values) }
    }

    /// Every value in order; call after all work has finished successfully.
    func values() -> [Value] {
        state.withLock { $0.slots.map { $0! } }
    }
}
