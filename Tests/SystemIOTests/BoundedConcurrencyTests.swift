import Foundation
import Synchronization
import Testing

@testable import SystemIO

@Suite("Bounded concurrency and blocking look-ups")
struct BoundedConcurrencyTests {
    @Test("concurrentMap runs at most its width at once, uses all of it, and keeps the order", arguments: [1, 2, 5])
    func concurrentMapIsBounded(width: Int) async {
        let gauge = ConcurrencyGauge()
        let results = await Array(0..<40).concurrentMap(width: width, gauge: gauge) { value in
            try? await Task.sleep(for: .milliseconds(2))
            return value * 2
        }
        #expect(results == (0..<40).map { $0 * 2 })
        #expect(gauge.peak == width)
        #expect(gauge.current == 0)
    }

    @Test func concurrentMapOfNothingIsEmpty() async {
        let results = await [Int]().concurrentMap(width: 3) { $0 }
        #expect(results.isEmpty)
    }

    @Test("the host name is looked up on a blocking-pool thread, once")
    func hostNameIsLookedUpOffTheCooperativePool() async {
        let onPool = Mutex<[Bool]>([])
        let hostName = HostName {
            onPool.withLock { $0.append(BlockingPool.isPoolThread) }
            return "host-under-test"
        }
        for _ in 0..<3 {
            let name = await hostName.name()
            #expect(name == "host-under-test")
        }
        let seen = onPool.withLock { $0 }
        #expect(seen == [true], "looked up \(seen.count) times, on the blocking pool: \(seen)")
        #expect(await HostName.current() == ProcessInfo.processInfo.hostName)
    }
}
