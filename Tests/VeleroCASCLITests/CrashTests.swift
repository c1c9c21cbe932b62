import Foundation
import SampleData
import SystemIO
import TestSupport
import Testing

@Suite("kill -9 during backup and garbage collection")
struct CrashTests {
    /// Starts the CLI and SIGKILLs it after `delay`; returns whether it had already finished by itself.
    static func runAndKill(_ arguments: [String], after delay: Duration, environment: [String: String]) async throws
        -> Bool
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(for: delay)
        let finished = !process.isRunning
        if !finished { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return finished
    }

    /// Sends `signal` to `process` from a thread of its own as soon as the store's `locks` directory holds a lock
    /// (plus `settle`), so a loaded test process cannot wake too late; waits for the exit and returns how long it took
    /// after the signal.
    static func signalOnceLocked(_ process: Process, locks: String, signal: Int32, settle: Duration = .zero) async
        -> Duration
    {
        await withCheckedContinuation { continuation in
            Thread {
                let deadline = ContinuousClock.now + .seconds(30)
                while process.isRunning, ContinuousClock.now < deadline,
                    (try? FileSystem.contentsOfDirectory(locks))?.contains(where: { $0.hasSuffix(".json") }) != true
                {
                    usleep(500)
                }
                let (seconds, attoseconds) = settle.components
                Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
                let sent = ContinuousClock.now
                kill(process.processIdentifier, signal)
                process.waitUntilExit()
                continuation.resume(returning: ContinuousClock.now - sent)
            }.start()
        }
    }

    /// `cp -a`: a copy with new inodes, which a backup reads and hashes in full.
    static func copyTree(_ source: String, to destination: String) throws {
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-a", source, destination]
        try cp.run()
        cp.waitUntilExit()
    }

    @Test(
        "SIGTERM and SIGINT stop a backup promptly, release its lock and commit nothing",
        arguments: [SIGTERM, SIGINT])
    func stopSignalReleasesLocks(signal: Int32) async throws {
        let temp = try TemporaryDirectory("signal")
        defer { temp.remove() }
        try SampleData(seed: 7).generate(into: temp.sub("data"), bytes: 96 << 20)
        let store = ["--store", temp.sub("store")]
        #expect(try await CLIRunner.run(["store", "init"] + store).status == 0)
        // The signal is sent from a thread of its own as soon as the backup's lock exists: a loaded test process
        // could otherwise wake its polling task only after the backup had finished. Each attempt reads a fresh copy
        // (new inodes), so none is a cheap incremental backup; one that finished first anyway is tried again.
        var landed = false
        for attempt in 0..<4 where !landed {
            let name = "stopped-\(attempt)"
            let copy = temp.sub("copy-\(attempt)")
            try Self.copyTree(temp.sub("data"), to: copy)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
            process.arguments = ["store", "backup-dir", copy, "--name", name] + store
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let locks = temp.sub("store/locks")
            let stoppedAfter = await Self.signalOnceLocked(process, locks: locks, signal: signal)
            guard process.terminationStatus != 0 else { continue }
            landed = true
            #expect(stoppedAfter < .seconds(10), "stopped promptly")
            #expect(process.terminationStatus == 128 + signal)
            #expect(
                try FileSystem.contentsOfDirectory(locks).filter { $0.hasSuffix(".json") } == [],
                "the lock was released")
            #expect(
                try FileSystem.statusIfExists(temp.sub("store/snapshots/\(name).json")) == nil, "nothing committed")
        }
        #expect(landed, "the signal reached a running backup in one of four attempts")
        // The store is usable at once: no stale lock to wait for.
        let gc = try await CLIRunner.run(["gc", "--orphans"] + store)
        #expect(gc.status == 0, "\(gc.errors)")
        #expect(try await CLIRunner.run(["verify", "--read-data"] + store).status == 0)
    }

    /// Kills per run: 20 in CI, more on demand (`VELERO_CAS_CRASH_TRIALS`).
    static var trials: Int { ProcessInfo.processInfo.environment["VELERO_CAS_CRASH_TRIALS"].flatMap(Int.init) ?? 20 }

    @Test(
        "random kills of backups, forgets, gc and gc --orphans: afterwards gc converges, verify is clean, every committed snapshot restores exactly"
    )
    func randomKills() async throws {
        let temp = try TemporaryDirectory("crash")
        defer { temp.remove() }
        // Locks of killed processes go stale after a second (instead of 30 minutes): a setting of the store.
        let environment: [String: String] = [:]
        let store = ["--store", temp.sub("store")]
        #expect(try await CLIRunner.run(["store", "init", "--lock-stale-after", "1s"] + store).status == 0)
        for variant in 0..<4 {
            try SampleData(seed: UInt64(50 + variant)).generate(into: temp.sub("data-\(variant)"), bytes: 12 << 20)
        }
        #expect(
            try await CLIRunner.run(["store", "backup-dir", temp.sub("data-0"), "--name", "base"] + store).status == 0)
        var random = SplitMix(seed: 99)
        var killed = 0
        for trial in 0..<Self.trials {
            let delay = Duration.milliseconds(Int.random(in: 2...60, using: &random))
            let arguments: [String]
            if trial % 4 == 3 {
                // A plain collection, or an orphan sweep of what killed backups left.
                arguments = trial % 8 == 3 ? ["gc"] : ["gc", "--orphans"]
            } else if trial % 4 == 2 {
                // A collection that has something to do: forget a snapshot made earlier, if any besides base.
                let snapshots = try FileSystem.contentsOfDirectory(temp.sub("store/snapshots")).filter {
                    $0 != "base.json"
                }
                arguments =
                    snapshots.first.map { ["store", "forget", String($0.dropLast(5)), "--confirm"] } ?? [
                        "gc", "--orphans",
                    ]
            } else {
                // A fresh copy (new inodes) is read and hashed in full, so the kill lands mid-backup.
                let copy = temp.sub("copy-\(trial)")
                try Self.copyTree(temp.sub("data-\(trial % 4)"), to: copy)
                arguments = ["store", "backup-dir", copy, "--name", "trial-\(trial)"]
            }
            if !(try await Self.runAndKill(arguments + store, after: delay, environment: environment)) { killed += 1 }
            try await Task.sleep(for: .milliseconds(1100))  // let the killed process's lock go stale
        }
        #expect(killed >= Self.trials * 2 / 5, "most runs were killed mid-way (\(killed) of \(Self.trials))")

        // Recovery: a collection finishes interrupted expiries and sweeps the crashed backups' chunks.
        let gc = try await CLIRunner.run(["gc", "--orphans"] + store, environment: environment)
        #expect(gc.status == 0, "\(gc.errors)")
        let again = try await CLIRunner.run(["gc", "--orphans", "-o", "json"] + store, environment: environment)
        let result = try JSONSerialization.jsonObject(with: Data(again.output.utf8)) as? [String: Any]
        #expect(result?["deletedChunks"] as? Int == 0, "gc converged: \(again.output)")
        let verify = try await CLIRunner.run(["verify", "--read-data", "-o", "json"] + store, environment: environment)
        #expect(verify.status == 0, "\(verify.output)")
        let report = try JSONSerialization.jsonObject(with: Data(verify.output.utf8)) as? [String: Any]
        #expect(report?["orphanedChunks"] as? Int == 0)

        let snapshots = try FileSystem.contentsOfDirectory(temp.sub("store/snapshots")).map { String($0.dropLast(5)) }
        #expect(snapshots.contains("base"))
        for name in snapshots {
            let target = temp.sub("restore-\(name)")
            let restore = try await CLIRunner.run(
                ["store", "restore-dir", name, target] + store, environment: environment)
            #expect(restore.status == 0, "\(name): \(restore.errors)")
            let variant = name == "base" ? 0 : (Int(name.dropFirst("trial-".count)) ?? 0) % 4
            #expect(try SampleData.compareTrees(temp.sub("data-\(variant)"), target) == [], "\(name)")
        }
    }
}
