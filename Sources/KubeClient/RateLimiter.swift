import Synchronization

/// Client-side token bucket (QPS with a burst), like client-go's, so a parallel backup does not flood the API server.
final class RateLimiter: Sendable {
    private struct State {
        var tokens: Double
        var last: ContinuousClock.Instant
    }
    let qps: Double
    private let burst: Double
    private let state: Mutex<State>

    /// `qps` ≤ 0 disables limiting.
    init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = Double(max(1, burst))
        state = Mutex(State(tokens: Double(max(1, burst)), last: .now))
    }

    /// Waits until a request may go.
    func acquire() async throws {
        guard qps > 0 else { return }
        let wait: Double = state.withLock { state in
            let now = ContinuousClock.now
            let elapsed = now - state.last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            state.tokens = min(burst, state.tokens + seconds * qps)
            state.last = now
            state.tokens -= 1
            return state.tokens >= 0 ? 0 : -state.tokens / qps
        }
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
    }
}
