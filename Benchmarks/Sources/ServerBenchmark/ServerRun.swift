import BenchmarkSupport
import Foundation
import KubeClient
import VeleroAPI

/// The velero-cas binary, run as a user runs it against the benchmark's cluster.
struct CLI: Sendable {
    let path: String
    let kubeconfig: String
    let environment: [String: String]

    /// Runs the CLI to its exit; returns its output and the wall time, or fails with its errors.
    func run(_ arguments: [String]) throws -> (output: String, seconds: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments + ["--kubeconfig", kubeconfig]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Standard error goes to a file: a pipe read only after standard output could fill and stall the CLI.
        let errorPath = NSTemporaryDirectory() + "velero-cas-server-bench-\(getpid())-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let started = ContinuousClock.now
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let errorText = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        let elapsed = ContinuousClock.now - started
        guard process.terminationStatus == 0 else {
            throw BenchError("velero-cas \(arguments.joined(separator: " ")) failed: \(errorText) \(text)")
        }
        return (text, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// `backup create NAME --local --store STORE`: "backup NAME Completed: N items, …".
    func localBackup(_ name: String, store: String) async throws -> Run {
        let (output, seconds) = try run(["backup", "create", name, "--local", "--store", store])
        guard
            let items = output.split(separator: " ").firstIndex(of: "items,").flatMap({ index in
                Int(output.split(separator: " ")[index - 1])
            }), output.contains("Completed")
        else {
            throw BenchError("unexpected output of the local backup: \(output)")
        }
        return Run(seconds: seconds, items: items)
    }
}

/// A `velero-cas server` process for one measured backup: started (CRDs installed), given a fresh store as the
/// BackupStorageLocation the backup names, and stopped afterwards, so in-process runs never share the cores with it.
struct ServerRun {
    let runner: CLI
    let client: KubeClient
    let workdir: String

    func backup(_ name: String, store: String) async throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: runner.path)
        process.arguments = [
            "server", "--kubeconfig", runner.kubeconfig, "--namespace", "velero", "--install-crds", "--store",
            workdir + "/store-unused",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(runner.environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await waitForServer()
        var location = BackupStorageLocation(
            name: name, namespace: "velero", spec: .init(provider: "local", config: ["path": store]))
        location.spec.accessMode = "ReadWrite"
        _ = try await client.create(BackupStorageLocation.resource, namespace: "velero", json: try location.encoded())

        let before = try await writes()
        let (output, seconds) = try runner.run(["backup", "create", name, "--storage-location", name, "--wait"])
        let after = try await writes()
        guard output.contains("Backup completed with status: Completed.") else {
            throw BenchError("the backup through the server did not complete: \(output)")
        }
        let backup = try Backup.decode(try await client.get(Backup.resource, namespace: "velero", name: name).json)
        return Run(
            seconds: seconds, items: backup.status?.progress?.itemsBackedUp ?? 0,
            statusWrites: after.patch - before.patch, allWrites: after.all - before.all)
    }

    /// Until the server's presence Lease is fresh (it renews it once it runs).
    private func waitForServer() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let lease = try? await client.get(
                ServerPresence.resource, namespace: "velero", name: ServerPresence.leaseName),
                ServerPresence.isFresh(lease.json, now: Date())
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("velero-cas server did not start within a minute")
    }

    /// kube-sim's count of PATCH requests and of all writes so far (`/sim/stats`, by verb).
    private func writes() async throws -> (patch: Int, all: Int) {
        let response = try await client.send(.get, "/sim/stats")
        let stats = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let byVerb = stats?["requests"] as? [String: Any] ?? [:]
        func count(_ verb: String) -> Int { (byVerb[verb] as? NSNumber)?.intValue ?? 0 }
        return (count("patch"), count("create") + count("update") + count("patch") + count("delete"))
    }
}
