import Foundation
import HTTPTransport
import KubeSim
import TestSupport
import Testing

/// `velero-cas server` as a process: its production flags, its endpoints, and SIGTERM giving up the lease.
@Suite("velero-cas server as a process")
struct ServerProcessTests {
    /// A port that was free a moment ago.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func poll<T>(_ what: String, seconds: Double = 20, _ body: () async throws -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = try? await body() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TimedOut(what: what)
    }

    struct TimedOut: Error { var what: String }

    @Test("--leader-elect=true takes the lease, serves /readyz and /metrics, and SIGTERM releases the lease")
    func leaseAndEndpoints() async throws {
        let temp = try TemporaryDirectory("server-process")
        defer { temp.remove() }
        let sim = try await KubeSimServer.start(KubeSimConfiguration())
        defer { Task { try? await sim.shutdown() } }
        try sim.writeKubeconfig(path: temp.sub("kubeconfig"))
        try sim.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "velero"]])
        let port = try Self.freePort()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = [
            "server", "--kubeconfig", temp.sub("kubeconfig"), "--namespace", "velero", "--install-crds",
            "--leader-elect=true", "--leader-election-retry-period", "500ms", "--metrics-address",
            "127.0.0.1:\(port)", "--store", temp.sub("store"),
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let leasePath = "/apis/coordination.k8s.io/v1/namespaces/velero/leases/velero-cas-leader"

        let holder = try await Self.poll("the server to take the lease") {
            sim.object(at: leasePath)?["spec"]?["holderIdentity"]?.stringValue
        }
        #expect(holder.hasSuffix("_\(process.processIdentifier)"), "holder '\(holder)' is host_pid")
        #expect(sim.object(at: leasePath)?["spec"]?["leaseDurationSeconds"] == 15)
        let client = HTTPClient()
        let url = "http://127.0.0.1:\(port)"
        let ready = try await Self.poll("/readyz to answer 200") { () -> HTTPResponse? in
            let response = try await client.execute(HTTPRequest(method: .get, url: url + "/readyz"))
            return response.status == 200 ? response : nil
        }
        #expect(ready.text.contains("leading"))
        let metrics = try await client.execute(HTTPRequest(method: .get, url: url + "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.text.contains(#"velero_backup_attempt_total{schedule=""} 0"#), "\(metrics.text)")
        #expect(try await client.execute(HTTPRequest(method: .get, url: url + "/healthz")).status == 200)

        kill(process.processIdentifier, SIGTERM)
        _ = try await Self.poll("the server to exit") { process.isRunning ? nil : true }
        #expect(process.terminationStatus == 0, "a graceful stop exits 0, not \(process.terminationStatus)")
        #expect(
            sim.object(at: leasePath)?["spec"]?["holderIdentity"] == "", "SIGTERM gives the lease up for the next")
    }

    @Test("server flags are checked, naming the flag and the value")
    func refusedFlags() async throws {
        let cases: [([String], String)] = [
            (["--leader-election-lease-duration", "soon"], "--leader-election-lease-duration 'soon'"),
            (["--leader-election-renew-deadline", "20s"], "--leader-election-lease-duration (15"),
            (["--leader-election-retry-period", "9s"], "--leader-election-retry-period (9"),
            (["--metrics-address", "8085"], "--metrics-address '8085'"),
            (["--leader-elect=maybe"], "--leader-elect takes true or false, not 'maybe'"),
            (["--leader-election-lease-name", "Bad_Name"], "--leader-election-lease-name"),
            (["--restore-helper-image", "velero cas"], "--restore-helper-image 'velero cas'"),
            (["--default-volumes-to-fs-backup=maybe"], "--default-volumes-to-fs-backup takes true or false"),
            // Go's bare and short forms of a boolean are taken: the error is the next flag's, not "Missing value".
            (["--default-volumes-to-fs-backup", "--fs-backup-timeout", "0s"], "--fs-backup-timeout '0s'"),
            (["--default-volumes-to-fs-backup=1", "--fs-backup-timeout", "0s"], "--fs-backup-timeout '0s'"),
            (["--garbage-collection-frequency", "3000000000000000h"], "--garbage-collection-frequency"),
        ]
        for (arguments, mentions) in cases {
            let result = try await CLIRunner.run(["server", "--kubeconfig", "/nonexistent"] + arguments)
            #expect(result.status != 0, "\(arguments) was accepted")
            #expect(result.errors.contains(mentions), "\(arguments): \(result.errors)")
        }
    }
}
