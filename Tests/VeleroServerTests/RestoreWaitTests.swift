import Foundation
import Synchronization
import TestSupport
import Testing
import VeleroServer

@Suite("velero-cas restore-wait: the init container's wait for the done files")
struct RestoreWaitTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test("returns only once every volume has .velero/<uid> (a file at the root is no volume), then removes .velero")
    func waitsForEveryVolume() async throws {
        let temp = try TemporaryDirectory("restore-wait")
        defer { temp.remove() }
        let root = temp.sub("restores")
        for volume in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(volume)", withIntermediateDirectories: true)
        }
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(root)/not-a-volume"))
        // A done file of another restore does not count.
        try FileManager.default.createDirectory(atPath: "\(root)/b/.velero", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: "\(root)/b/.velero/other-uid"))
        let lines = Lines()
        let wait = RestoreWait(
            restoreUID: "uid-1", root: root, interval: .milliseconds(20), timeout: .seconds(120),
            output: { lines.append($0) })
        let task = Task { try await wait.run() }
        /// Waits (polling, so a loaded machine only makes it slower) until restore-wait has said `text`.
        func said(_ text: String) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while !lines.all.contains(where: { $0.contains(text) }) {
                guard ContinuousClock.now < deadline else { throw CancellationError() }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await said("0 of 2")
        try FileManager.default.createDirectory(atPath: "\(root)/a/.velero", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: "\(root)/a/.velero/uid-1"))
        try await said("1 of 2")
        #expect(lines.all.contains { $0.contains("1 of 2") && $0.contains("\(root)/b") }, "\(lines.all)")
        // Looked many times meanwhile, but said only what changed.
        #expect(lines.all.count == 2, "a line when the state changes, not one per look: \(lines.all)")
        try Data().write(to: URL(fileURLWithPath: "\(root)/b/.velero/uid-1"))
        let volumes = try await task.value
        #expect(volumes == ["a", "b"])
        for volume in ["a", "b"] {
            #expect(!FileManager.default.fileExists(atPath: "\(root)/\(volume)/.velero"))
        }
    }

    @Test("a bounded wait: the timeout names the volumes without a done file; a missing root and a bad uid are refused")
    func failures() async throws {
        let temp = try TemporaryDirectory("restore-wait")
        defer { temp.remove() }
        let root = temp.sub("restores")
        try FileManager.default.createDirectory(atPath: "\(root)/data", withIntermediateDirectories: true)
        await #expect(throws: RestoreWait.Failure.timedOut(missing: ["\(root)/data"], after: .milliseconds(300))) {
            try await RestoreWait(
                restoreUID: "u", root: root, interval: .milliseconds(50), timeout: .milliseconds(300), output: { _ in }
            ).run()
        }
        await #expect(throws: RestoreWait.Failure.missingRoot(temp.sub("nothing"))) {
            try await RestoreWait(restoreUID: "u", root: temp.sub("nothing"), output: { _ in }).run()
        }
        await #expect(throws: RestoreWait.Failure.invalidRestoreUID("../x")) {
            try await RestoreWait(restoreUID: "../x", root: root, output: { _ in }).run()
        }
    }

    @Test("the command refuses a bad uid, a relative root and a bad duration by name")
    func command() async throws {
        for (arguments, expected) in [
            (["restore-wait", "a/b"], "the restore uid 'a/b'"),
            (["restore-wait", "u", "--restores-root", "restores"], "--restores-root 'restores'"),
            (["restore-wait", "u", "--timeout", "soon"], "--timeout 'soon'"),
            (["restore-wait", "u", "--interval", "0s"], "--interval '0s'"),
        ] {
            let run = try await ServerProcess.run(arguments, environment: [:])
            #expect(run.status != 0)
            #expect(run.errors.contains(expected), "\(arguments): \(run.errors)")
        }
    }
}
