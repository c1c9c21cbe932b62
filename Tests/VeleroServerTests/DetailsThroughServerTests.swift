import Collectors
import Foundation
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

@Suite("describe --details and logs through the server", .serialized)
struct DetailsThroughServerTests {
    @Test("backup and restore describe --details: resources by kind, volumes, errors and warnings by namespace")
    func describeDetails() async throws {
        try await ServerHarness.with { harness in
            let namespace = harness.namespaces[0]
            let nodes = try NodeCluster(harness)
            // A scheduled, running pod asks for two volumes: a config map (never backed up from a node: a warning)
            // and a claim that does not exist (cannot be handed to a node agent: an error on the backup).
            _ = try await nodes.pod(
                "web", namespace: namespace, node: "node-a",
                volumes:
                    #"[{"name":"cfg","configMap":{"name":"x"}},{"name":"data","persistentVolumeClaim":{"claimName":"gone"}}]"#,
                annotations: ["backup.velero.io/backup-volumes": "cfg,data"])
            let kubeconfig = nodes.kubeconfig
            try await harness.withServer {
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"det"},\
                    "spec":{"includedNamespaces":["\(namespace)","no-such-namespace"]}}
                    """, to: Backup.resource, namespace: "velero")
                let backup = try await harness.finishedBackup("det")
                #expect(backup.phase == .partiallyFailed, "\(String(describing: backup.status))")
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"det-back"},\
                    "spec":{"backupName":"det","namespaceMapping":{"\(namespace)":"det-copy"}}}
                    """, to: Restore.resource, namespace: "velero")
                _ = try await harness.finishedRestore("det-back")
                var configMaps: [String] = []
                try await harness.client.listAll(ServerHarness.configMaps, namespace: namespace) {
                    configMaps += $0.map(\.name)
                }
                #expect(!configMaps.isEmpty)

                // The server is found through its presence (no --server), and no store options are given.
                let environment = ["HOME": harness.temp.sub("home"), "VELERO_CAS_PASSWORD": ""]
                let described = try await ServerProcess.run(
                    ["backup", "describe", "det", "--details", "--kubeconfig", kubeconfig], environment: environment)
                #expect(described.status == 0, "\(described.errors)")
                let text = described.output
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                #expect(lines.contains("Resource List:"), "\(text)")
                #expect(lines.contains("  v1/ConfigMap:"), "\(text)")
                for name in configMaps { #expect(lines.contains("    - \(namespace)/\(name)"), "\(name): \(text)") }
                #expect(lines.contains("    - \(namespace)/web"), "the pod: \(text)")
                #expect(lines.contains("Backup Volumes:"))
                let volume = lines.first { $0.contains("pod volume \(namespace)/web/data on node node-a") }
                #expect(volume?.contains("[PodVolumeBackup]: failed") == true, "\(text)")
                #expect(volume?.contains("gone") == true, "the reason names the claim: \(text)")
                // Errors: the pod volume's, under its namespace; warnings: the missing namespace (velero's own) and
                // the config map volume (the pod's namespace).
                let errors = try #require(lines.firstIndex(of: "Errors:"))
                let warnings = try #require(lines.firstIndex(of: "Warnings:"))
                #expect(errors < warnings)
                let errorLines = lines[errors..<warnings]
                #expect(errorLines.contains("  Velero:     <none>"), "\(errorLines)")
                #expect(errorLines.contains { $0.hasPrefix("    \(namespace):  pod volume \(namespace)/web/data") })
                let warningLines = lines[warnings...]
                #expect(
                    warningLines.contains("  Velero:     namespace 'no-such-namespace' does not exist in the cluster"),
                    "\(warningLines)")
                #expect(warningLines.contains { $0.hasPrefix("    \(namespace):  pod volume \(namespace)/web/cfg") })

                let restoreDescribed = try await ServerProcess.run(
                    ["restore", "describe", "det-back", "--details", "--kubeconfig", kubeconfig],
                    environment: environment)
                #expect(restoreDescribed.status == 0, "\(restoreDescribed.errors)")
                let restoreLines = restoreDescribed.output.split(separator: "\n").map(String.init)
                #expect(restoreLines.contains("Resource List:"), "\(restoreDescribed.output)")
                #expect(restoreLines.contains("  v1/ConfigMap:"), "Velero's kind keys: \(restoreDescribed.output)")
                for name in configMaps {
                    #expect(
                        restoreLines.contains { $0.hasPrefix("    - det-copy/\(name)(") },
                        "\(name): \(restoreDescribed.output)")
                }
                #expect(restoreLines.contains("Errors:") && restoreLines.contains("  Velero:     <none>"))

                // Logs through the detected server too; --local reads the store (none is configured here).
                let logs = try await ServerProcess.run(
                    ["backup", "logs", "det", "--kubeconfig", kubeconfig], environment: environment)
                #expect(logs.status == 0, "\(logs.errors)")
                #expect(logs.output.contains("level=warning msg=\"namespace 'no-such-namespace'"), "\(logs.output)")
                let local = try await ServerProcess.run(
                    ["backup", "logs", "det", "--local", "--kubeconfig", kubeconfig], environment: environment)
                #expect(local.status != 0)
                #expect(!local.errors.contains("DownloadRequest"), "\(local.errors)")
            }
        }
    }
}
