import Foundation
import KubeSim
import TestSupport
import Testing

/// Fidelity of `pods/exec`: the real kubectl (WebSocket, v5.channel.k8s.io) runs commands in a kube-sim pod.
@Suite(.enabled(if: Kubectl.isInstalled, "kubectl is not installed: the kubectl exec test is skipped"))
struct KubectlExecTests {
    @Test("kubectl exec: output, stderr and exit code; unknown pod and container refused as by a real server")
    func kubectlExec() async throws {
        let root = try TemporaryDirectory("kubectl-exec")
        defer { root.remove() }
        var configuration = KubeSimConfiguration()
        configuration.kubeletRoots = ["n1": root.path]
        let server = try await KubeSimServer.start(configuration)
        let kubectl = try Kubectl(server: server)
        defer { kubectl.remove() }
        do {
            try server.create(
                try JSONValue.parse(
                    #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"app","namespace":"default"},"spec":{"nodeName":"n1","containers":[{"name":"main","image":"x"}]}}"#
                ))
            let ran = try await kubectl.run([
                "exec", "app", "-c", "main", "--", "sh", "-c", "echo hi; echo oops >&2; exit 4",
            ])
            #expect(ran.status == 4, "\(ran.combined)")
            #expect(ran.output == "hi\n")
            #expect(ran.error.contains("oops"))
            let plain = try await kubectl.run(["exec", "app", "--", "cat", "/proc/self/cmdline"])
            #expect(plain.status == 0, "\(plain.combined)")
            let noPod = try await kubectl.run(["exec", "ghost", "--", "true"])
            #expect(noPod.status != 0)
            #expect(noPod.error.contains("pods \"ghost\" not found"), "\(noPod.error)")
            let noContainer = try await kubectl.run(["exec", "app", "-c", "ghost", "--", "true"])
            #expect(noContainer.status != 0)
            #expect(noContainer.error.contains("container ghost is not valid for pod app"), "\(noContainer.error)")
            try await server.shutdown()
        } catch {
            try? await server.shutdown()
            throw error
        }
    }
}
