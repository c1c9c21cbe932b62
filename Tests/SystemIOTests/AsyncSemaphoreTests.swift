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
    func neverMoreHoldersThanPermits(permits: Int) async {
        let semaphore = AsyncSemaphore(permits: permits)
        let occupancy = Occupancy()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    await semaphore.withPermit {
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
                await semaphore.acquire()
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
        await semaphore.acquire()
        let resumed = Atomic<Bool>(false)
        let waiter = Task {
            await semaphore.acquire()
            resumed.store(true, ordering: .sequentiallyConsistent)
            semaphore.release()
        }
        try await Task.sleep(for: .milliseconds(50))
        let resumedEarly = resumed.load(ordering: .sequentiallyConsistent)
        #expect(!resumedEarly, "a waiter got in while the only permit was held")
        semaphore.release()
        await waiter.value
        let resumedAfterRelease = resumed.load(ordering: .sequentiallyConsistent)
        #expect(resumedAfterRelease)
    }
}
