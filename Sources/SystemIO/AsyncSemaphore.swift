import Synchronization

/// Bounds how many units of work (or bytes) are in flight between pipeline stages; waiters resume in FIFO order.
///
/// Used for backpressure: a producer acquires before it hands a chunk on, the consumer releases when the chunk is
/// stored, so memory stays bounded however fast the producer is. An acquire may take several permits at once (a
/// chunk's bytes); a waiter at the head that needs more than is free holds back later ones, so none starves. A
/// waiting task that is cancelled stops waiting at once with `CancellationError`, so a failed pipeline does not hang
/// on a permit that will never come.
public final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        /// Waiters by ticket, and the tickets in arrival order (cancelled ones are skipped when their turn comes).
        var waiters: [UInt64: (weight: Int, continuation: CheckedContinuation<Void, any Error>)] = [:]
        var order: [UInt64] = []
        var head = 0
        var nextTicket: UInt64 = 0
    }
    private let state: Mutex<State>
    /// All permits there are.
    public let capacity: Int

    public init(permits: Int) {
        precondition(permits > 0, "a semaphore needs at least one permit")
        capacity = permits
        state = Mutex(State(available: permits))
    }

    /// Permits free right now (for tests and progress).
    public var available: Int { state.withLock { $0.available } }

    /// Waits for `weight` permits (at most the capacity); throws `CancellationError` if the task is cancelled first
    /// (then none is held).
    public func acquire(_ weight: Int = 1) async throws {
        let weight = min(max(weight, 0), capacity)
        let ticket = state.withLock { state -> UInt64 in
            state.nextTicket += 1
            return state.nextTicket
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case granted, cancelled, waiting }
                let outcome = state.withLock { state -> Outcome in
                    // FIFO: nobody overtakes a waiter already queued.
                    if state.available >= weight && state.head >= state.order.count {
                        state.available -= weight
                        return .granted
                    }
                    // The cancellation flag is set before the handler runs, so a handler that ran before this point
                    // is seen here, and one that runs after finds the waiter registered.
                    if Task.isCancelled { return .cancelled }
                    state.waiters[ticket] = (weight, continuation)
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
            // A cancelled head may unblock the waiters behind it.
            let (waiter, ready) = state.withLock { state in
                (state.waiters.removeValue(forKey: ticket), Self.grant(&state))
            }
            waiter?.continuation.resume(throwing: CancellationError())
            for continuation in ready { continuation.resume() }
        }
    }

    /// Returns `weight` permits, handing them on to the oldest waiters they satisfy.
    public func release(_ weight: Int = 1) {
        let weight = min(max(weight, 0), capacity)
        let ready = state.withLock { state in
            state.available += weight
            return Self.grant(&state)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Grants queued waiters in order while the head's weight is free; returns whom to resume.
    private static func grant(_ state: inout State) -> [CheckedContinuation<Void, any Error>] {
        var ready: [CheckedContinuation<Void, any Error>] = []
        while state.head < state.order.count {
            let ticket = state.order[state.head]
            guard let waiter = state.waiters[ticket] else {
                state.head += 1  // cancelled
                continue
            }
            guard state.available >= waiter.weight else { break }
            state.available -= waiter.weight
            state.waiters[ticket] = nil
            state.head += 1
            ready.append(waiter.continuation)
        }
        if state.head == state.order.count {
            state.order.removeAll(keepingCapacity: true)
            state.head = 0
        }
        return ready
    }

    /// Runs `body` holding one permit.
    public func withPermit<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }
}
