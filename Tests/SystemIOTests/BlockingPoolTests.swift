import Foundation
import Synchronization
import SystemIO
import Testing

@Suite("BlockingPool")
struct BlockingPoolTests {
    struct PoolFailure: Error, Equatable { let code: Int }

    @Test func runReturnsValuesFromManyConcurrentJobs() async throws {
        let pool = BlockingPool(threads: 3)
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for index in 0..<100 {
                group.addTask { (index, try await pool.run { index * index }) }
            }
            var results = [Int: Int]()
            for try await (index, value) in group { results[index] = value }
            return results
        }
        #expect(results.count == 100)
        #expect(results.allSatisfy { $0.value == $0.key * $0.key })
    }

    @Test func runPropagatesErrors() async {
        let pool = BlockingPool(threads: 1)
        let error = await #expect(throws: PoolFailure.self) {
            try await pool.run { () throws -> Int in throw PoolFailure(code: 42) }
        }
        #expect(error == PoolFailure(code: 42))
        // The pool keeps working after a failed job.
        let value = try? await pool.run { "still alive" }
        #expect(value == "still alive")
    }

    @Test func jobsRunOnExactlyThePoolsThreads() async throws {
        let pool = BlockingPool(threads: 2)
        let threads = try await withThrowingTaskGroup(of: UInt.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await pool.run { () -> UInt in
                        usleep(2_000)
                        return UInt(pthread_self())
                    }
                }
            }
            var threads = Set<UInt>()
            for try await thread in group { threads.insert(thread) }
            return threads
        }
        #expect(threads.count == 2, "40 overlapping jobs on a 2-thread pool ran on \(threads.count) threads")
        let caller = UInt(pthread_self())
        #expect(!threads.contains(caller))
    }

    /// Counts jobs that reached the barrier; shared by the jobs of one test.
    private final class Barrier: Sendable {
        let arrived = Atomic<Int>(0)
    }

    @Test func blockingJobsRunInParallelAcrossThreads() async throws {
        // Each job blocks its thread until all four have arrived: only a pool running them at once lets them meet.
        let pool = BlockingPool(threads: 4)
        let barrier = Barrier()
        let met = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await pool.run { () -> Bool in
                        barrier.arrived.add(1, ordering: .sequentiallyConsistent)
                        let deadline = ContinuousClock.now + .seconds(10)
                        while barrier.arrived.load(ordering: .sequentiallyConsistent) < 4
                            && ContinuousClock.now < deadline
                        {
                            usleep(1000)
                        }
                        return barrier.arrived.load(ordering: .sequentiallyConsistent) == 4
                    }
                }
            }
            var met = 0
            for try await arrived in group where arrived { met += 1 }
            return met
        }
        #expect(met == 4, "only \(met) of 4 blocking jobs ran at the same time on a 4-thread pool")
    }
}
