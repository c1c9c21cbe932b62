import Synchronization

/// A counter shared by concurrent workers.
public final class Counter: Sendable {
    public let value = Atomic<Int>(0)

    public init() {}
}
