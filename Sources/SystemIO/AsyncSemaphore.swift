import Synchronization

/// Bounds how many units of work are in flight between pipeline stages; waiters resume in FIFO order.
///
/// Used for backpressure: a producer acquires before it hands a chunk on, the consumer releases when the chunk is
/// stored, so memory stays bounded however fast the producer is. A waiting task that is cancelled stops waiting at
/// once with `CancellationError`, so a failed pipeline does not hang on a permit that will never come.
public final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        /// Waiters by ticket, and the tickets in arrival order (cancelled ones are skipped when their turn comes).
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var order: [UInt64] = []
        var head = 0
        var nextTicket: UInt64 = 0
    }
    private let state: Mutex<State>

    public init(permits: Int) {
        precondition(permits > 0, "a semaphore needs at least one permit")
        state = Mutex(State(available: permits))
    }

    /// Waits for a permit; throws `CancellationError` if the task is cancelled first (then no permit is held).
    public func acquire() async throws {
        let ticket = state.withLock { state -> UInt64 in
            state.nextTicket += 1
            return state.nextTicket
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case granted, cancelled, waiting }
                let outcome = state.withLock { state -> Outcome in
                    if state.available > 0 {
                        state.available -= 1
                        return .granted
                    }
                    // The cancellation flag is set before the handler runs, so a handler that ran before this point
                    // is seen here, and one that runs after finds the waiter registered.
                    if Task.isCancelled { return .cancelled }
                    state.waiters[ticket] = continuation
                    state.order.append(ticket)
                    return .waiting
                }
                switch outcome {
                case .granted: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: ticket) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Returns a permit, handing it straight to the oldest waiter if there is one.
    public func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            while state.head < state.order.count {
                let ticket = state.order[state.head]
                state.head += 1
                if state.head == state.order.count {
                    state.order.removeAll(keepingCapacity: true)
                    state.head = 0
                }
                if let waiter = state.waiters.removeValue(forKey: ticket) { return waiter }
            }
            state.available += 1
            return nil
        }
        next?.resume()
    }

    /// Runs `body` holding one permit.
    public func withPermit<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }
}
