import Foundation
import Testing

@Suite("velero-cas node-agent: bad input")
struct NodeAgentCommandTests {
    @Test(
        "each bad input is refused with a message naming it",
        arguments: [
            ([] as [String], [:] as [String: String], "NODE_NAME environment variable"),
            ([], ["NODE_NAME": "Bad_Node"], "NODE_NAME 'Bad_Node'"),
            (["--concurrency", "0"], ["NODE_NAME": "n1"], "--concurrency 0"),
            (["--kubelet-root-dir", "relative/dir"], ["NODE_NAME": "n1"], "--kubelet-root-dir 'relative/dir'"),
            (["--kubelet-root-dir", "/nonexistent/kubelet"], ["NODE_NAME": "n1"], "is not a directory"),
            (["--volume-wait-timeout", "forever"], ["NODE_NAME": "n1"], "--volume-wait-timeout 'forever'"),
            (["--host-root-dir", "host"], ["NODE_NAME": "n1"], "--host-root-dir 'host'"),
            (["--read-bytes-per-second", "0"], ["NODE_NAME": "n1"], "--read-bytes-per-second 0"),
            (["--write-bytes-per-second", "0"], ["NODE_NAME": "n1"], "--write-bytes-per-second 0"),
        ])
    func refused(arguments: [String], environment: [String: String], message: String) async throws {
        let result = try await CLIRunner.run(
            ["node-agent", "--kubeconfig", "/nonexistent/kubeconfig"] + arguments,
            environment: environment.merging(["NODE_NAME": environment["NODE_NAME"] ?? ""]) { $1 })
        #expect(result.status != 0)
        #expect((result.output + result.errors).contains(message), "\(result.output)\(result.errors)")
    }
}
