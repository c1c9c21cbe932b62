import Synchronization

/// Bounds the bytes per second moved by everyone sharing it (a backup's reads of volumes, a restore's writes into
/// them): a token bucket kept as the instant it is next empty (virtual scheduling). `take(_:)` reserves the bytes at
/// once and then sleeps (a task sleep, not a blocked thread) until the rate allows them, so concurrent users share
/// the rate in the order they asked. Up to `burst` of moving may run ahead of the rate.
public final class ByteThrottle: Sendable {
    /// The bound, in bytes per second (at least 1).
    public let bytesPerSecond: Int
    private let burst: Duration
    private let emptyAt = Mutex<ContinuousClock.Instant?>(nil)

    public init(bytesPerSecond: Int, burst: Duration = .milliseconds(50)) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        self.burst = burst
    }

    /// Waits until `count` more bytes may be moved; throws `CancellationError` when cancelled meanwhile.
    public func take(_ count: Int) async throws {
        guard count > 0 else { return }
        let cost = Duration.nanoseconds(Int64((Double(count) / Double(bytesPerSecond) * 1e9).rounded(.up)))
        let now = ContinuousClock.now
        let until = emptyAt.withLock { state in
            let next = max(state ?? now, now) + cost
            state = next
            return next
        }
        if until - burst > now { try await Task.sleep(until: until - burst, clock: .continuous) }
    }
}
