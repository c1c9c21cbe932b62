import Foundation

/// A fixed set of threads for blocking system calls (file reads, writes, fsync).
///
/// Swift's cooperative pool has one thread per core; a blocking call there stalls every other task. Work that blocks
/// is handed to these threads instead and the awaiting task resumes when it is done.
public final class BlockingPool: Sendable {
    /// The process-wide pool, sized for overlapping fsync and disk latency rather than for the core count.
    public static let shared = BlockingPool(threads: max(8, ProcessInfo.processInfo.activeProcessorCount * 4))

    private let queue: JobQueue

    public init(threads: Int) {
        precondition(threads > 0, "a blocking pool needs at least one thread")
        queue = JobQueue()
        for index in 0..<threads {
            let thread = Thread { [queue] in queue.runWorker() }
            thread.name = "velero-cas-io-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Whether the calling thread is one of a blocking pool's (where blocking is allowed); for checks and tests.
    public static var isPoolThread: Bool { Thread.current.threadDictionary[poolThreadKey] as? Bool == true }
    fileprivate static let poolThreadKey = "velero-cas.blocking-pool"

    /// Runs `body` on a pool thread and returns its result to the awaiting task.
    @discardableResult
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.enqueue { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// The pool's job list; a condition variable wakes idle threads.
private final class JobQueue: @unchecked Sendable {
    // Guarded by `condition`.
    // A taken job's slot is cleared at once, so nothing it captured (chunk buffers) outlives the job.
    private var jobs: [(@Sendable () -> Void)?] = []
    private var head = 0
    private let condition = NSCondition()

    func enqueue(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func runWorker() {
        Thread.current.threadDictionary[BlockingPool.poolThreadKey] = true
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head].take()!
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
