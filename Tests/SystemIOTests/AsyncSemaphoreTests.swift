import Synchronization
import SystemIO
import Testing

@Suite("AsyncSemaphore")
struct AsyncSemaphoreTests {
    /// How many tasks hold a permit now, at most so far, and in total.
    private final class Occupancy: Sendable {
        struct Counts {
            var current = 0
            var maximum = 0
            var completed = 0
        }
        let counts = Mutex(Counts())
    }

    @Test(arguments: [1, 3, 8])
    func neverMoreHoldersThanPermits(permits: Int) async throws {
        let semaphore = AsyncSemaphore(permits: permits)
        let occupancy = Occupancy()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await semaphore.withPermit {
                        occupancy.counts.withLock {
                            $0.current += 1
                            $0.maximum = max($0.maximum, $0.current)
                        }
                        try? await Task.sleep(for: .milliseconds(2))
                        occupancy.counts.withLock {
                            $0.current -= 1
                            $0.completed += 1
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = occupancy.counts.withLock { $0 }
        #expect(final.completed == 200)
        #expect(final.maximum <= permits, "the semaphore let \(final.maximum) tasks in with \(permits) permits")
        #expect(final.maximum == permits, "with 200 waiting tasks every permit should be used")
        #expect(final.current == 0)
    }

    @Test func withPermitReleasesWhenBodyThrows() async throws {
        struct Boom: Error {}
        let semaphore = AsyncSemaphore(permits: 1)
        await #expect(throws: Boom.self) {
            try await semaphore.withPermit { () async throws -> Int in throw Boom() }
        }
        // If the permit leaked, this acquire would hang; race it against a timeout.
        let acquired = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                guard (try? await semaphore.acquire()) != nil else { return false }
                semaphore.release()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                return false
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        #expect(acquired)
    }

    @Test func waiterResumesOnlyAfterRelease() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let resumed = Atomic<Bool>(false)
        let waiter = Task {
            try await semaphore.acquire()
            resumed.store(true, ordering: .sequentiallyConsistent)
            semaphore.release()
        }
        try await Task.sleep(for: .milliseconds(50))
        let resumedEarly = resumed.load(ordering: .sequentiallyConsistent)
        #expect(!resumedEarly, "a waiter got in while the only permit was held")
        semaphore.release()
        try await waiter.value
        let resumedAfterRelease = resumed.load(ordering: .sequentiallyConsistent)
        #expect(resumedAfterRelease)
    }

    @Test("a cancelled waiter stops waiting at once, holds no permit, and is skipped by release")
    func cancelledWaiter() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let cancelled = Task { try await semaphore.acquire() }
        let next = Task { try await semaphore.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        let started = ContinuousClock.now
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        // Without cancellation support the wait would never end (no release comes); the bound is loose for busy CI.
        #expect(ContinuousClock.now - started < .seconds(20), "cancellation ended the wait without a release")
        // The permit goes to the live waiter, not to the cancelled one.
        semaphore.release()
        try await next.value
        // And exactly one permit exists: with it held, a new acquire waits.
        let late = Task { try await semaphore.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        late.cancel()
        await #expect(throws: CancellationError.self) { try await late.value }
        semaphore.release()
        try await semaphore.acquire()
    }

    @Test("an already cancelled task does not wait for a permit")
    func alreadyCancelled() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await semaphore.acquire()
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("weighted permits: never more than the capacity held, first come first served, no starvation of a big one")
    func weighted() async throws {
        let budget = AsyncSemaphore(permits: 10)
        let order = Locked<[Int]>([])
        try await budget.acquire(8)
        // A big waiter (6) queues first; small ones (1) behind it must not overtake it while it waits.
        let big = Task {
            try await budget.acquire(6)
            order.withLock { $0.append(6) }
        }
        try await Task.sleep(for: .milliseconds(50))
        let small = Task {
            try await budget.acquire(1)
            order.withLock { $0.append(1) }
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(order.withLock { $0 }.isEmpty, "2 free permits: the big waiter waits, the small one stays behind it")
        budget.release(8)
        try await big.value
        try await small.value
        #expect(order.withLock { $0 } == [6, 1], "first come, first served")
        #expect(budget.available == 10 - 6 - 1)
        budget.release(7)
        #expect(budget.available == 10)
        // Asking for more than the capacity takes the whole capacity instead of waiting forever.
        try await budget.acquire(50)
        #expect(budget.available == 0)
        budget.release(50)
        #expect(budget.available == 10)
    }

    @Test("200 tasks taking random weights never hold more than the capacity", arguments: [1, 2])
    func weightedStress(seed: Int) async throws {
        let budget = AsyncSemaphore(permits: 64)
        let held = Locked((current: 0, maximum: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                let weight = (index * 37 + seed * 11) % 40 + 1
                group.addTask {
                    try await budget.acquire(weight)
                    held.withLock {
                        $0.current += weight
                        $0.maximum = max($0.maximum, $0.current)
                    }
                    try await Task.sleep(for: .milliseconds(1))
                    held.withLock { $0.current -= weight }
                    budget.release(weight)
                }
            }
            try await group.waitForAll()
        }
        let final = held.withLock { $0 }
        #expect(final.maximum <= 64 && final.maximum > 40, "\(final.maximum)")
        #expect(final.current == 0 && budget.available == 64)
    }
}

/// A value shared by concurrent tasks.
private final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
