import NIOCore
import Synchronization

/// An API server's finite capacity, as kube-apiserver's max-in-flight limits and priority-and-fairness queues give
/// it: at most `maxInFlight` requests are served at once, each holding its seat for `cost` (the server's work for
/// it); up to `queueLength` more wait for a seat in arrival order; a request beyond that is rejected at once with
/// 429 TooManyRequests and `Retry-After`. Watches do not take seats (APF exempts long-running requests).
public struct Capacity: Sendable, Equatable {
    public var maxInFlight: Int
    public var queueLength: Int
    public var cost: Duration
    public var retryAfterSeconds: Int

    public init(maxInFlight: Int, queueLength: Int = 0, cost: Duration = .zero, retryAfterSeconds: Int = 1) {
        self.maxInFlight = max(1, maxInFlight)
        self.queueLength = max(0, queueLength)
        self.cost = cost
        self.retryAfterSeconds = max(1, retryAfterSeconds)
    }
}

/// The seats and the queue of a `Capacity`, shared by every connection.
final class CapacityGate: Sendable {
    private struct Waiter {
        let eventLoop: any EventLoop
        let start: @Sendable () -> Void
    }
    private struct State {
        var inFlight = 0
        var queue: [Waiter] = []
        var queueHead = 0
        var served = 0
        var rejected = 0
        var peakInFlight = 0
    }

    let capacity: Capacity
    private let state = Mutex(State())

    init(_ capacity: Capacity) { self.capacity = capacity }

    /// Takes a seat and runs `start` (now, or on `eventLoop` when a seat frees up); false when the queue is full and
    /// the request must be rejected.
    func enter(on eventLoop: any EventLoop, _ start: @escaping @Sendable () -> Void) -> Bool {
        let decision = state.withLock { state -> Bool? in
            if state.inFlight < capacity.maxInFlight {
                state.inFlight += 1
                state.peakInFlight = max(state.peakInFlight, state.inFlight)
                return true
            }
            if state.queue.count - state.queueHead < capacity.queueLength {
                state.queue.append(Waiter(eventLoop: eventLoop, start: start))
                return false
            }
            state.rejected += 1
            return nil
        }
        guard let runNow = decision else { return false }
        if runNow { start() }
        return true
    }

    /// Gives the seat to the first waiter, or frees it.
    func leave() {
        let next = state.withLock { state -> Waiter? in
            state.served += 1
            guard state.queueHead < state.queue.count else {
                state.inFlight -= 1
                return nil
            }
            let waiter = state.queue[state.queueHead]
            state.queueHead += 1
            if state.queueHead > 1024 {
                state.queue.removeFirst(state.queueHead)
                state.queueHead = 0
            }
            return waiter
        }
        if let next { next.eventLoop.execute(next.start) }
    }

    /// Requests served, rejected with 429, and the most served at once.
    var counters: (served: Int, rejected: Int, peakInFlight: Int) {
        state.withLock { ($0.served, $0.rejected, $0.peakInFlight) }
    }
}
