import Foundation
import SampleData

/// restic and borg run on the same data in the same run, when installed; both encrypt, as velero-cas does. Like
/// velero-cas, each makes three backups (the first, one after 1% of the data changed, one unchanged), restores the
/// latest, then forgets the first and reclaims its space (restic `forget --prune`, borg `delete` + `compact`).
enum Peers {
    struct Result {
        var name: String
        var backupSeconds: Double
        /// The best of its restores (the first, and those of `StoreBenchmark`'s restore rounds).
        var restoreSeconds: Double
        var forgetSeconds: Double
    }

    /// Changes 1% of the data between a peer's first and second backup (as velero-cas's run did).
    static func change(_ data: String, seed: UInt64) throws {
        _ = try SampleData(seed: seed).mutate(directory: data, fraction: 0.01)
    }

    static func installed(_ tool: String) -> Bool {
        (try? Command.run("/bin/sh", ["-c", "command -v \(tool)"]).status) == 0
    }

    static func resticEnvironment(_ workdir: String) -> [String: String] {
        [
            "RESTIC_PASSWORD": "benchmark", "RESTIC_REPOSITORY": workdir + "/restic-repo",
            "RESTIC_CACHE_DIR": workdir + "/restic-cache",
        ]
    }

    static func borgEnvironment(_ workdir: String) -> [String: String] {
        ["BORG_PASSPHRASE": "benchmark", "BORG_BASE_DIR": workdir + "/borg-base"]
    }

    /// Restores a peer's latest backup (made by `restic` or `borg` above) into `target` again; returns the seconds.
    static func restoreAgain(_ name: String, workdir: String, into target: String) throws -> Double {
        if name == "restic" {
            let restore = try Command.run(
                "restic", ["restore", "latest", "--target", target], environment: resticEnvironment(workdir))
            try restore.check("restic restore")
            return restore.seconds
        }
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let restore = try Command.run(
            "borg", ["extract", workdir + "/borg-repo::third"], environment: borgEnvironment(workdir),
            directory: target)
        try restore.check("borg extract")
        return restore.seconds
    }

    static func restic(data: String, workdir: String) throws -> Result {
        let target = workdir + "/restic-restore"
        let environment = resticEnvironment(workdir)
        try Command.run("restic", ["init", "--quiet"], environment: environment).check("restic init")
        let backup = try Command.run("restic", ["backup", "--quiet", data], environment: environment)
        try backup.check("restic backup")
        try change(data, seed: 71)
        for _ in 0..<2 {
            try Command.run("restic", ["backup", "--quiet", data], environment: environment).check("restic backup")
        }
        let restore = try Command.run("restic", ["restore", "latest", "--target", target], environment: environment)
        try restore.check("restic restore")
        StoreBenchmark.log("restore round 1: restic \(String(format: "%.2f", restore.seconds)) s")
        let listing = try Command.run("restic", ["snapshots", "--json"], environment: environment)
        try listing.check("restic snapshots")
        guard
            let snapshots = try JSONSerialization.jsonObject(with: Data(listing.output.utf8)) as? [[String: Any]],
            let first = snapshots.compactMap({ $0["short_id"] as? String }).first
        else { throw BenchmarkError("restic snapshots: no snapshot id in \(listing.output.prefix(200))") }
        let forget = try Command.run("restic", ["forget", "--prune", first], environment: environment)
        try forget.check("restic forget --prune")
        return Result(
            name: "restic", backupSeconds: backup.seconds, restoreSeconds: restore.seconds,
            forgetSeconds: forget.seconds)
    }

    static func borg(data: String, workdir: String, encrypted: Bool) throws -> Result {
        let repository = workdir + "/borg-repo"
        let target = workdir + "/borg-restore"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        // Encrypted or not as velero-cas's store is: a like-for-like comparison.
        let environment = borgEnvironment(workdir)
        try Command.run(
            "borg", ["init", "--encryption=" + (encrypted ? "repokey-blake2" : "none"), repository],
            environment: environment
        )
        .check("borg init")
        let backup = try Command.run(
            "borg", ["create", "--compression", "lz4", repository + "::first", data], environment: environment)
        try backup.check("borg create")
        try change(data, seed: 72)
        for name in ["second", "third"] {
            try Command.run(
                "borg", ["create", "--compression", "lz4", repository + "::" + name, data], environment: environment
            ).check("borg create")
        }
        let restore = try Command.run(
            "borg", ["extract", repository + "::third"], environment: environment, directory: target)
        try restore.check("borg extract")
        StoreBenchmark.log("restore round 1: borg \(String(format: "%.2f", restore.seconds)) s")
        let delete = try Command.run("borg", ["delete", repository + "::first"], environment: environment)
        try delete.check("borg delete")
        let compact = try Command.run("borg", ["compact", repository], environment: environment)
        try compact.check("borg compact")
        return Result(
            name: "borg", backupSeconds: backup.seconds, restoreSeconds: restore.seconds,
            forgetSeconds: delete.seconds + compact.seconds)
    }
}

/// A child process run to completion, with its wall time and output.
struct Command {
    var status: Int32
    var seconds: Double
    var output: String
    var errorOutput: String

    @discardableResult
    static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
    ) throws
        -> Command
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let start = ContinuousClock.now
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Command(
            status: process.terminationStatus, seconds: (ContinuousClock.now - start).seconds,
            output: String(decoding: outData, as: UTF8.self), errorOutput: String(decoding: errData, as: UTF8.self))
    }

    func check(_ what: String) throws {
        guard status == 0 else { throw BenchmarkError("\(what) failed (exit \(status)): \(errorOutput)") }
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
