import Foundation
import KubeClient
import Logging
import Synchronization
import Testing
import VeleroAPI

@testable import VeleroServer

@Suite("Controller machinery against kube-sim", .serialized)
struct ControllerMachineryTests {
    @Test("status writes from two writers at once lose nothing: each names its resourceVersion and retries on 409")
    func concurrentStatusWrites() async throws {
        try await ServerHarness.with { harness in
            try await harness.apply(
                #"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"contended"},"spec":{}}"#,
                to: Backup.resource, namespace: "velero")
            let access = ObjectAccess<Backup>(client: harness.client, namespace: "velero")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        for _ in 0..<20 {
                            let written = try await access.updateStatus("contended") { backup in
                                var status = backup.status ?? Backup.Status()
                                status.warnings = (status.warnings ?? 0) + 1
                                backup.status = status
                                return true
                            }
                            #expect(written != nil)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await harness.backup("contended")?.status?.warnings == 40)
            // The writers did collide, and the server refused the stale writes.
            #expect(harness.sim.requestCount(status: 409) > 0)
        }
    }

    @Test("a watch resumed from a compacted version gets 410 and lists again, missing nothing")
    func relistAfterGone() async throws {
        try await ServerHarness.with { harness in
            let lists = Mutex(0)
            let seen = Mutex(Set<String>())
            let watcher = ResourceWatcher(
                client: harness.client, resource: Backup.resource, namespace: "velero", watchTimeoutSeconds: 1,
                logger: Logger(label: "test"))
            let task = Task {
                await watcher.run(
                    listed: { objects in
                        lists.withLock { $0 += 1 }
                        seen.withLock { $0.formUnion(objects.map(\.name)) }
                    },
                    changed: { object in seen.withLock { _ = $0.insert(object.name) } })
            }
            defer { task.cancel() }
            try await harness.waitFor("the first list") { lists.withLock { $0 } >= 1 ? true : nil }
            // While the watch is open, the cluster moves on elsewhere and history is compacted: when the watch times
            // out and resumes from its version, that version is gone.
            try await harness.apply(
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"elsewhere","namespace":"default"}}"#,
                to: ServerHarness.configMaps, namespace: "default")
            harness.sim.compact()
            try await harness.waitFor("a second list after 410", seconds: 15) {
                lists.withLock { $0 } >= 2 ? true : nil
            }
            try await harness.apply(
                #"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"later"},"spec":{}}"#,
                to: Backup.resource, namespace: "velero")
            try await harness.waitFor("the new object") { seen.withLock { $0.contains("later") } ? true : nil }
            task.cancel()
            _ = await task.result
        }
    }
}
