import Synchronization

/// How many requests the client has in flight, adapted to what the API server accepts (additive increase,
/// multiplicative decrease, as TCP does for congestion): each answered request raises the limit by 1/limit, and an
/// answer that says the server is saturated (429 TooManyRequests, or 503 with Retry-After, which is how
/// kube-apiserver's max-in-flight limits and priority-and-fairness reject work) halves it, at most once per
/// `cooldown`. So a large restore goes as fast as the server allows and yields when it is busy, with no fixed rate.
final class AdaptiveConcurrency: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var limit: Double
        var inFlight = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        var lastDecrease: ContinuousClock.Instant?
        var decreases = 0
    }

    let minimum: Double
    let maximum: Double
    let cooldown: Duration
    private let state: Mutex<State>

    init(initial: Int, maximum: Int, cooldown: Duration = .milliseconds(100)) {
        self.minimum = 1
        self.maximum = Double(max(1, maximum))
        self.cooldown = cooldown
        state = Mutex(State(limit: Double(min(max(1, initial), max(1, maximum)))))
    }

    /// The current limit and how often the server's pushback lowered it.
    var current: (limit: Int, decreases: Int) { state.withLock { (Int($0.limit), $0.decreases) } }

    /// Waits for a slot; cancellable.
    func acquire() async throws {
        let id = state.withLock { state -> UInt64? in
            if state.inFlight < Int(state.limit) && state.waiters.isEmpty {
                state.inFlight += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume(throwing: CancellationError()) }
                wakeWaiters()
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Gives a slot back, saying whether the server pushed back.
    func release(overloaded: Bool) {
        state.withLock { state in
            state.inFlight -= 1
            if overloaded {
                let now = ContinuousClock.now
                if state.lastDecrease.map({ now - $0 >= cooldown }) ?? true {
                    state.limit = max(minimum, state.limit / 2)
                    state.lastDecrease = now
                    state.decreases += 1
                }
            } else {
                state.limit = min(maximum, state.limit + 1 / state.limit)
            }
        }
        wakeWaiters()
    }

    private func wakeWaiters() {
        let ready = state.withLock { state -> [Waiter] in
            var ready: [Waiter] = []
            while state.inFlight < Int(state.limit), !state.waiters.isEmpty {
                ready.append(state.waiters.removeFirst())
                state.inFlight += 1
            }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }
}
