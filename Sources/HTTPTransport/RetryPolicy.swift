/// Exponential backoff with full jitter, shared by the S3 and Kubernetes clients.
public struct RetryPolicy: Sendable {
    /// Attempts in total, including the first.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(10)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// A random delay in [0, min(max, base·2^attempt)]; `attempt` counts from 0 for the first retry.
    public func delay(beforeRetry attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(attempt, 20)))
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(0, nanoseconds)))
    }

    /// The delay a `Retry-After` header asks for (seconds form), capped at `maxDelay`.
    public func delay(retryAfter header: String?) -> Duration? {
        guard let header, let seconds = Int(header.trimmingSpaces()), seconds >= 0 else { return nil }
        return min(maxDelay, .seconds(seconds))
    }

    /// Whether an HTTP status is worth retrying: throttling and server errors, never 4xx auth or client errors.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 408 || (500...599).contains(status) && status != 501
    }
}

extension String {
    fileprivate func trimmingSpaces() -> Substring {
        var slice = self[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
