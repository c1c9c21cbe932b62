import Foundation
import TestSupport
import Testing

@testable import ChunkStore

/// The byte throttle bounds the rate of everyone sharing it, a backup read through it and a restore written
/// through it.
@Suite("Byte throttle")
struct ByteThrottleTests {
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    @Test("concurrent readers sharing one throttle together take at least bytes / rate")
    func sharedRate() async throws {
        // 4 readers × 10 takes × 20 kB = 800 kB at 1 MB/s: at least 0.8 s, less the 50 ms burst.
        let throttle = ByteThrottle(bytesPerSecond: 1_000_000)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { for _ in 0..<10 { try await throttle.take(20_000) } }
            }
            try await group.waitForAll()
        }
        let elapsed = Self.seconds(ContinuousClock.now - started)
        #expect(elapsed >= 0.7, "800 kB at 1 MB/s took \(elapsed) s")
    }

    // Without cancellation the wait would be 11 days: the time limit fails the test (elapsed time is not checked,
    // since a loaded test run may start the task late).
    @Test("a cancelled wait ends at once", .timeLimit(.minutes(1)))
    func cancellation() async throws {
        let throttle = ByteThrottle(bytesPerSecond: 1000)
        let waiting = Task { try await throttle.take(1_000_000_000) }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }

    @Test("a backup read through the throttle takes at least its bytes / rate")
    func backupIsBounded() async throws {
        let temp = try TemporaryDirectory("read-throttle")
        defer { temp.remove() }
        try FileManager.default.createDirectory(atPath: temp.sub("source"), withIntermediateDirectories: true)
        var state: UInt64 = 7
        let bytes = (0..<1_500_000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: temp.sub("source/data.bin")))
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        var tree = TreeBackup(repository: repository)
        tree.readThrottle = ByteThrottle(bytesPerSecond: 2_000_000)
        let started = ContinuousClock.now
        let snapshot = try await tree.run(source: temp.sub("source"), name: "throttled")
        let elapsed = Self.seconds(ContinuousClock.now - started)
        #expect(snapshot.summary.logicalBytes == 1_500_000)
        // 1.5 MB at 2 MB/s: at least 0.75 s, less the burst.
        #expect(elapsed >= 0.65, "1.5 MB at 2 MB/s took \(elapsed) s")
    }

    @Test("a restore written through the throttle takes at least its bytes / rate, and is whole")
    func restoreIsBounded() async throws {
        let temp = try TemporaryDirectory("write-throttle")
        defer { temp.remove() }
        try FileManager.default.createDirectory(atPath: temp.sub("source"), withIntermediateDirectories: true)
        let bytes = TestData.random(count: 1_500_000, seed: 11)
        try Data(bytes).write(to: URL(fileURLWithPath: temp.sub("source/data.bin")))
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("source"), name: "snap")
        var tree = TreeRestore(repository: repository)
        tree.writeThrottle = ByteThrottle(bytesPerSecond: 2_000_000)
        let started = ContinuousClock.now
        let summary = try await tree.run(snapshot: "snap", into: temp.sub("target"))
        let elapsed = Self.seconds(ContinuousClock.now - started)
        #expect(summary.bytes == 1_500_000)
        #expect(try Data(contentsOf: URL(fileURLWithPath: temp.sub("target/data.bin"))) == Data(bytes))
        // 1.5 MB at 2 MB/s: at least 0.75 s, less the burst.
        #expect(elapsed >= 0.65, "1.5 MB at 2 MB/s took \(elapsed) s")
    }
}
