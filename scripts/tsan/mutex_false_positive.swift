// Why ThreadSanitizer reports races inside `Mutex.withLock` on Linux: a contended handoff of Swift's Mutex (a
// priority-inheritance futex) happens in the kernel, which TSan does not see. Four threads add one under the lock
// 200,000 times each; the total is always right, and TSan still reports a "Swift access race". NSLock (pthread, which
// TSan intercepts) is reported clean.
//
//   swiftc -sanitize=thread -O scripts/tsan/mutex_false_positive.swift -o /tmp/mutex-tsan
//   /tmp/mutex-tsan mutex    # WARNING: ThreadSanitizer: Swift access race … then "mutex 800000"
//   /tmp/mutex-tsan nslock   # no warning, "nslock 800000"
import Foundation
import Synchronization

final class Box: @unchecked Sendable {
    var value = 0
}

let mutex = Mutex(0)
let plain = Box()
let lock = NSLock()
let useMutex = (CommandLine.arguments.dropFirst().first ?? "mutex") == "mutex"
let threads = 4
let done = DispatchSemaphore(value: 0)
for _ in 0..<threads {
    Thread {
        for _ in 0..<200_000 {
            if useMutex {
                mutex.withLock { $0 += 1 }
            } else {
                lock.lock()
                plain.value += 1
                lock.unlock()
            }
        }
        done.signal()
    }.start()
}
for _ in 0..<threads { done.wait() }
print(useMutex ? "mutex" : "nslock", useMutex ? mutex.withLock { $0 } : lock.withLock { plain.value })
