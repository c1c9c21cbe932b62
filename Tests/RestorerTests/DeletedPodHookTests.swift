import BackupModel
import Foundation
import KubeClient
import KubeSim
import Testing

@testable import Restorer

/// A pod the restore created and that is gone before the post-restore hooks look for it: its hooks are reported
/// as failed, not left out of the restore's hook status.
struct DeletedPodHookTests {
    let pods = APIResource(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true)

    func item(_ name: String, annotations: String) -> ResourceRestorer.Item {
        ResourceRestorer.Item(
            resource: pods,
            backup: Array(
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"src","annotations":{\#(annotations)}},"spec":{"containers":[{"name":"app","image":"x"}]}}"#
                    .utf8),
            namespace: "app", name: name)
    }

    @Test("a created pod deleted before the hooks run fails its hook with that reason; one without hooks is not listed")
    func deletedBeforeHooks() async throws {
        let server = try await KubeSimServer.start(KubeSimConfiguration())
        let client = KubeClient(configuration: ClusterConfiguration(server: server.baseURL))
        let items = [
            item("gone", annotations: #""post.hook.restore.velero.io/command":"[\"true\"]""#),
            item("plain", annotations: #""note":"no hooks""#),
            item("failed-to-create", annotations: #""post.hook.restore.velero.io/command":"[\"true\"]""#),
        ]
        let results = [
            RestoreItemResult(resource: "pods", namespace: "app", name: "gone", outcome: .created),
            RestoreItemResult(resource: "pods", namespace: "app", name: "plain", outcome: .created),
            RestoreItemResult(resource: "pods", namespace: "app", name: "failed-to-create", outcome: .failed),
        ]
        let restored = PostRestoreHooks.createdPods(items, results: results)
        #expect(Set(restored.keys.map(\.name)) == ["gone", "plain"], "only created pods")
        #expect(
            restored[.init(namespace: "app", name: "gone")]?.annotations?["post.hook.restore.velero.io/command"]
                == #"["true"]"#)

        // None of the pods exists in the cluster any more.
        let hooks = PostRestoreHooks(client: client, rules: RestoreHookRules(), restoreName: "r")
        let outcome = try await hooks.run(results, restoredPods: restored)
        #expect(outcome.records.map(\.pod) == ["gone"])
        #expect(outcome.records.first?.error == "the pod was deleted before the hook ran")
        #expect(outcome.warnings.count == 1 && outcome.errors.isEmpty, "on-error unset is Continue: \(outcome.errors)")
        // Without the backed-up pods there is nothing to say which hooks a vanished pod had.
        #expect(try await hooks.run(results).records.isEmpty)
        try await server.shutdown()
    }
}
