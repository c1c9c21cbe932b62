import Foundation
import KubeSim
import SystemIO
import TestSupport
import Testing

@Suite("storage locations, logs and restore details")
struct LocationAndLogTests {
    @Test("named locations: create, get, back up into the default one, logs and describe")
    func locations() async throws {
        let temp = try TemporaryDirectory("cli-locations")
        defer { temp.remove() }
        let environment = ["VELERO_CAS_CONFIG": temp.sub("locations.yaml"), "HOME": temp.sub("home")]
        let server = try await KubeSimServer.start(
            KubeSimConfiguration(synthetic: SyntheticCluster.Options(namespaces: 1, objectsPerNamespace: 10)))
        try server.writeKubeconfig(path: temp.sub("kubeconfig"))

        let created = try await CLIRunner.run(
            ["location", "create", "primary", "--store", temp.sub("primary"), "--default"], environment: environment)
        #expect(created.status == 0, "\(created.errors)")
        #expect(
            try await CLIRunner.run(
                ["location", "create", "Bad_Name", "--store", temp.sub("x")], environment: environment
            )
            .errors.contains("invalid name"))
        #expect(
            try await CLIRunner.run(["location", "create", "s3bad", "--store", "s3://"], environment: environment)
                .errors
                .contains("no bucket name"))
        let listed = try await CLIRunner.run(["location", "get"], environment: environment)
        #expect(listed.output.contains("primary") && listed.output.contains("yes"))

        let backup = try await CLIRunner.run(
            ["backup", "create", "b1", "--kubeconfig", temp.sub("kubeconfig")], environment: environment)
        #expect(backup.status == 0, "\(backup.errors)")
        #expect(
            FileManager.default.fileExists(atPath: temp.sub("primary/backups/b1.json")), "the default location was used"
        )
        let get = try await CLIRunner.run(
            ["backup", "get", "-o", "json", "--storage-location", "primary"], environment: environment)
        #expect(get.output.contains(#""storageLocation" : "primary""#))
        let missing = try await CLIRunner.run(
            ["backup", "get", "--storage-location", "nowhere"], environment: environment)
        #expect(missing.status != 0 && missing.errors.contains("storage location 'nowhere' is not configured"))

        let verify = try await CLIRunner.run(["verify", "--read-data"], environment: environment)
        #expect(verify.status == 0, "\(verify.errors)")
        #expect(verify.output.contains("1 backups reference"))

        let logs = try await CLIRunner.run(["backup", "logs", "b1"], environment: environment)
        #expect(logs.status == 0)
        #expect(logs.output.contains("backup b1 started") && logs.output.contains("backup b1 Completed"))
        #expect(logs.output.contains("collected") && logs.output.contains("configmaps"))

        let target = try await KubeSimServer.start(KubeSimConfiguration())
        try target.writeKubeconfig(path: temp.sub("target"))
        let restore = try await CLIRunner.run(
            ["restore", "create", "r1", "--from-backup", "b1", "--kubeconfig", temp.sub("target")],
            environment: environment)
        #expect(restore.status == 0, "\(restore.errors)")
        let describe = try await CLIRunner.run(["restore", "describe", "r1", "--details"], environment: environment)
        #expect(describe.output.contains("Phase:        Completed") && describe.output.contains("created: configmaps"))
        let restoreLogs = try await CLIRunner.run(["restore", "logs", "r1"], environment: environment)
        #expect(restoreLogs.output.contains("restored tier"))

        #expect(try await CLIRunner.run(["location", "delete", "primary"], environment: environment).status == 0)
        #expect(try await CLIRunner.run(["location", "delete", "primary"], environment: environment).status != 0)
        try await server.shutdown()
        try await target.shutdown()
    }
}

@Suite("backups that fail")
struct FailedBackupTests {
    @Test("a backup of an unreachable cluster ends Failed, says why, and cannot be restored")
    func unreachable() async throws {
        let temp = try TemporaryDirectory("cli-failed")
        defer { temp.remove() }
        let kubeconfig = """
            apiVersion: v1
            kind: Config
            current-context: down
            clusters: [{name: down, cluster: {server: "http://127.0.0.1:1"}}]
            contexts: [{name: down, context: {cluster: down}}]
            """
        try Array(kubeconfig.utf8).withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("kubeconfig"), bytes: $0) }
        let store = ["--store", temp.sub("store")]
        let backup = try await CLIRunner.run(
            ["backup", "create", "doomed", "--kubeconfig", temp.sub("kubeconfig")] + store)
        #expect(backup.status != 0)
        #expect(
            backup.errors.contains("backup doomed Failed")
                && backup.errors.contains("cannot reach the Kubernetes API server"))
        let get = try await CLIRunner.run(["backup", "get"] + store)
        #expect(get.output.contains("doomed") && get.output.contains("Failed"))
        let restore = try await CLIRunner.run(
            ["restore", "create", "--from-backup", "doomed", "--kubeconfig", temp.sub("kubeconfig")] + store)
        #expect(restore.status != 0)
        #expect(restore.errors.contains("only Completed or PartiallyFailed backups can be restored"))
    }
}
