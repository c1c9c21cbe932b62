import Foundation
import KubeClient
import KubeSim
import TestSupport
import Testing

/// `KubeClient.exec` over the WebSocket exec protocol against kube-sim, which runs the command as a local process in
/// the pod's directory under the node's kubelet root.
@Suite(.serialized)
struct ExecTests {
    static func withPod<T: Sendable>(
        token: String = "admin-token", _ body: (KubeClient, KubeSimServer, String) async throws -> T
    ) async throws -> T {
        let root = try TemporaryDirectory("exec-root")
        defer { root.remove() }
        var configuration = KubeSimConfiguration(
            credentials: [Credential(token: "admin-token"), Credential(token: "reader-token", role: .readOnly)])
        configuration.kubeletRoots = ["node-a": root.path]
        let server = try await KubeSimServer.start(configuration)
        let client = KubeClient(
            configuration: ClusterConfiguration(server: server.baseURL, credentials: .token(token)))
        let pod = try server.create(
            try JSONValue.parse(
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"app","namespace":"default"},"spec":{"nodeName":"node-a","containers":[{"name":"main","image":"x"},{"name":"side","image":"y"}]}}"#
            ))
        let podDirectory = root.path + "/pods/" + (pod["metadata"]?["uid"]?.stringValue ?? "")
        do {
            let result = try await body(client, server, podDirectory)
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    @Test("stdout, stderr and the exit code come back; the command runs in the pod's directory")
    func outputAndExitCode() async throws {
        try await Self.withPod { client, _, podDirectory in
            let failed = try await client.exec(
                namespace: "default", pod: "app", container: "main",
                command: ["sh", "-c", "echo out; echo err >&2; pwd; echo $KUBE_SIM_CONTAINER; exit 3"])
            #expect(failed.exitCode == 3)
            #expect(failed.stdoutText == "out\n\(podDirectory)\nmain\n")
            #expect(failed.stderrText == "err\n")
            #expect(failed.failure?.contains("exit code 3") == true)
            #expect(!failed.succeeded)
            let succeeded = try await client.exec(
                namespace: "default", pod: "app", container: "side", command: ["sh", "-c", "echo hi > marker"])
            #expect(succeeded.succeeded)
            #expect(try String(contentsOfFile: podDirectory + "/marker", encoding: .utf8) == "hi\n")
        }
    }

    @Test("output of 3 MB arrives whole up to the 1 MiB limit, over many frames")
    func largeOutput() async throws {
        try await Self.withPod { client, _, _ in
            let result = try await client.exec(
                namespace: "default", pod: "app", container: "main",
                command: ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo done >&2"])
            #expect(result.exitCode == 0)
            #expect(result.stdout.count == KubeClient.execOutputLimit)
            #expect(result.stdout.allSatisfy { $0 == UInt8(ascii: "a") })
            #expect(result.stderrText == "done\n")
        }
    }

    @Test("unknown pod 404, unknown or unnamed container 400, missing program a failure without exit code")
    func refusals() async throws {
        try await Self.withPod { client, _, _ in
            await #expect(throws: KubeAPIError.self) {
                _ = try await client.exec(namespace: "default", pod: "nope", container: "main", command: ["true"])
            }
            do {
                _ = try await client.exec(namespace: "default", pod: "nope", container: nil, command: ["true"])
            } catch let error as KubeAPIError {
                #expect(error.code == 404)
            }
            do {
                _ = try await client.exec(namespace: "default", pod: "app", container: "ghost", command: ["true"])
                Issue.record("an unknown container was accepted")
            } catch let error as KubeAPIError {
                #expect(error.code == 400)
                #expect(error.message == "container ghost is not valid for pod app")
            }
            do {
                _ = try await client.exec(namespace: "default", pod: "app", container: nil, command: ["true"])
                Issue.record("no container named for a two-container pod was accepted")
            } catch let error as KubeAPIError {
                #expect(error.code == 400)
                #expect(error.message.contains("choose one of: [main side]"))
            }
            let missing = try await client.exec(
                namespace: "default", pod: "app", container: "main", command: ["no-such-program-xyz"])
            #expect(missing.exitCode == nil)
            #expect(missing.failure?.contains("executable file not found") == true)
        }
    }

    @Test("a read-only token may not exec (403)")
    func readOnly() async throws {
        try await Self.withPod(token: "reader-token") { client, _, _ in
            do {
                _ = try await client.exec(namespace: "default", pod: "app", container: "main", command: ["true"])
                Issue.record("a read-only token could exec")
            } catch let error as KubeAPIError {
                #expect(error.code == 403)
            }
        }
    }

    @Test("a timeout ends the exec and kube-sim kills the command's whole process group")
    func timeout() async throws {
        try await Self.withPod { client, _, podDirectory in
            let start = ContinuousClock.now
            await #expect(throws: KubeExecError.self) {
                _ = try await client.exec(
                    namespace: "default", pod: "app", container: "main",
                    command: ["sh", "-c", "echo $$ > shell.pid; sleep 30 & echo $! > child.pid; wait"],
                    timeout: .seconds(1))
            }
            // Well before the 30 s sleep (with room for a loaded machine).
            #expect(ContinuousClock.now - start < .seconds(20), "cancellation took too long")
            // The shell and its background child are gone long before the 30 s sleep would end.
            let pids = try ["shell.pid", "child.pid"].map {
                try #require(Int32(try String(contentsOfFile: podDirectory + "/" + $0, encoding: .utf8).trimmed()))
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while pids.contains(where: { kill($0, 0) == 0 }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(!pids.contains { kill($0, 0) == 0 }, "a process of the timed-out command is still running")
        }
    }
}

extension String {
    fileprivate func trimmed() -> String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
