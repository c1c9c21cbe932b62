import Foundation
import KubeSim
import SystemIO
import TestSupport
import Testing

@Suite("velero-cas backup and restore commands")
struct BackupRestoreCommandTests {
    @Test("backup create from cluster A, get/describe, restore create into cluster B (migration)")
    func migrate() async throws {
        let temp = try TemporaryDirectory("cli-backup")
        defer { temp.remove() }
        let source = try await KubeSimServer.start(
            KubeSimConfiguration(synthetic: SyntheticCluster.Options(namespaces: 2, objectsPerNamespace: 30)))
        let target = try await KubeSimServer.start(KubeSimConfiguration())
        try source.writeKubeconfig(path: temp.sub("a"))
        try target.writeKubeconfig(path: temp.sub("b"))
        let store = ["--store", temp.sub("store")]

        let created = try await CLIRunner.run(
            ["backup", "create", "nightly", "--kubeconfig", temp.sub("a"), "--ttl", "24h"] + store)
        #expect(created.status == 0, "\(created.errors)")
        #expect(created.output.contains("backup nightly Completed"))
        let duplicate = try await CLIRunner.run(["backup", "create", "nightly", "--kubeconfig", temp.sub("a")] + store)
        #expect(duplicate.status != 0 && duplicate.errors.contains("already exists"))

        // A damaged record beside it is named on standard error, and the good one is still listed.
        try Array("not a record".utf8).withUnsafeBytes {
            try FileSystem.writeAtomically(temp.sub("store") + "/backups/broken.json", bytes: $0)
        }
        let list = try await CLIRunner.run(["backup", "get", "-o", "json"] + store)
        #expect(list.status == 0, "\(list.errors)")
        #expect(list.errors.contains("backups/broken.json"), "\(list.errors)")
        let records = try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]]
        #expect(records?.count == 1)
        try FileManager.default.removeItem(atPath: temp.sub("store") + "/backups/broken.json")
        #expect(records?.first?["phase"] as? String == "Completed")
        #expect((records?.first?["itemsBackedUp"] as? Int ?? 0) >= 60)
        let table = try await CLIRunner.run(["backup", "get"] + store)
        #expect(table.output.contains("NAME") && table.output.contains("nightly") && table.output.contains("Completed"))
        let describe = try await CLIRunner.run(["backup", "describe", "nightly", "--details"] + store)
        #expect(describe.output.contains("configmaps:") && describe.output.contains("Phase:        Completed"))

        let namespace = try #require(source.generated?.namespaceNames.first)
        let restored = try await CLIRunner.run(
            [
                "restore", "create", "move", "--from-backup", "nightly", "--kubeconfig", temp.sub("b"),
                "--include-namespaces", namespace, "--namespace-mappings", "\(namespace):moved",
            ] + store)
        #expect(restored.status == 0, "\(restored.output) \(restored.errors)")
        #expect(restored.output.contains("restore move Completed"))
        #expect(target.objectCount(namespace: "moved") > 0)
        #expect(target.objectCount(namespace: namespace) == 0)
        let restores = try await CLIRunner.run(["restore", "get"] + store)
        #expect(restores.output.contains("move") && restores.output.contains("nightly"))

        // Velero's spelling: -o names the file; the default is <name>-data.tar.gz in the working directory.
        let downloaded = try await CLIRunner.run(["backup", "download", "nightly"] + store, directory: temp.path)
        #expect(downloaded.status == 0, "\(downloaded.errors)")
        let tarball = temp.sub("nightly-data.tar.gz")
        #expect(downloaded.output.contains("backup nightly downloaded to nightly-data.tar.gz"), "\(downloaded.output)")
        #expect(try FileSystem.status(tarball).mode == 0o600, "the tarball holds Secrets: its owner's only")
        let magic = try FileSystem.readFile(tarball).prefix(2)
        #expect(Array(magic) == [0x1f, 0x8b], "a gzip file")
        let listing = try Self.tar(["-tzf", tarball])
        let entries = Set(listing.split(separator: "\n").map(String.init))
        let configMaps = entries.filter { $0.hasPrefix("resources/configmaps/namespaces/\(namespace)/") }.sorted()
        #expect(!configMaps.isEmpty && configMaps.allSatisfy { $0.hasSuffix(".json") })
        #expect(entries.contains("resources/namespaces/cluster/\(namespace).json"))
        #expect(entries.contains("resources/namespaces/v1-preferredversion/cluster/\(namespace).json"))
        for path in configMaps {
            let versioned = path.replacingOccurrences(
                of: "resources/configmaps/", with: "resources/configmaps/v1-preferredversion/")
            #expect(entries.contains(versioned), "\(versioned) missing")
        }
        #expect(entries.contains("metadata/version"))
        #expect(!entries.contains { $0.hasPrefix("resources/namespaces/namespaces/") })
        let extracted = temp.sub("extracted")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        _ = try Self.tar(["-xzf", tarball, "-C", extracted])
        #expect(try String(contentsOfFile: extracted + "/metadata/version", encoding: .utf8) == "1.1.0\n")
        let first = try #require(configMaps.first)
        let object = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: extracted + "/" + first)))
        let metadata = (object as? [String: Any])?["metadata"] as? [String: Any]
        let objectName = String(first.split(separator: "/").last!.dropLast(".json".count))
        #expect(metadata?["name"] as? String == objectName)
        #expect(metadata?["namespace"] as? String == namespace)
        #expect((object as? [String: Any])?["kind"] as? String == "ConfigMap")
        let again = try await CLIRunner.run(["backup", "download", "nightly", "-o", tarball] + store)
        #expect(again.status != 0 && again.errors.contains("--force"), "\(again.errors)")
        let forced = try await CLIRunner.run(["backup", "download", "nightly", "-o", tarball, "--force=true"] + store)
        #expect(forced.status == 0, "\(forced.errors)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.path).filter { $0.contains(".tmp-") }.isEmpty)

        let deleted = try await CLIRunner.run(["backup", "delete", "nightly"] + store)
        #expect(deleted.status != 0 && deleted.errors.contains("--confirm"))
        #expect(try await CLIRunner.run(["backup", "delete", "nightly", "--confirm"] + store).status == 0)
        let gone = try await CLIRunner.run(
            ["restore", "create", "--from-backup", "nightly", "--kubeconfig", temp.sub("b")] + store)
        #expect(gone.status != 0 && gone.errors.contains("backup 'nightly' not found"))
        try await source.shutdown()
        try await target.shutdown()
    }

    /// Runs /bin/tar and returns its standard output; fails the test when tar fails.
    static func tar(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "tar \(arguments) failed")
        return String(decoding: data, as: UTF8.self)
    }

    @Test(
        "bad backup and restore input gets a clear message",
        arguments: [
            (["backup", "create", "x", "--ttl", "forever"], "is not a duration"),
            (["backup", "create", "x", "--ttl=-5h"], "is not a duration"),
            (["backup", "create", "x", "--ttl", "1000000h"], "out of range"),
            (["backup", "create", "Bad_Name"], "invalid name 'Bad_Name'"),
            (["backup", "create", "x", "--selector", "a=b", "--or-selector", "c=d"], "cannot both be given"),
            (
                ["backup", "create", "x", "--include-resources", "pods", "--include-cluster-scoped-resources", "pv"],
                "cannot be combined"
            ),
            (["backup", "create", "x", "--labels", "novalue"], "must be key=value"),
            (
                ["backup", "create", "x", "--kubeconfig", "/nonexistent/kubeconfig"],
                "cannot read /nonexistent/kubeconfig"
            ),
            (["restore", "create", "--from-backup", "missing"], "backup 'missing' not found"),
            (
                ["restore", "create", "--from-backup", "b", "--namespace-mappings", "a:b:c"],
                "namespace mapping 'a:b:c'"
            ),
            (
                ["restore", "create", "--from-backup", "b", "--existing-resource-policy", "overwrite"],
                "must be none or update"
            ),
            (["backup", "create", "x", "--client-qps", "0"], "--client-qps '0.0'"),
            (["backup", "create", "x", "--client-qps=-3"], "--client-qps '-3.0'"),
            (["backup", "create", "x", "--client-burst", "10"], "--client-burst 10 needs --client-qps"),
            (
                ["restore", "create", "--from-backup", "b", "--client-qps", "5", "--client-burst", "0"],
                "--client-burst '0'"
            ),
            (["backup", "describe", "missing"], "backup 'missing' not found"),
            (["backup", "download", "missing"], "backup 'missing' not found"),
            (["backup", "create", "x", "--parallel-volumes", "0"], "--parallel-volumes must be between 1 and 32"),
            (
                ["restore", "create", "--from-backup", "b", "--parallel-volumes", "200"],
                "--parallel-volumes must be between 1 and 32"
            ),
        ])
    func badInput(arguments: [String], message: String) async throws {
        let temp = try TemporaryDirectory("cli-backup-bad")
        defer { temp.remove() }
        #expect(
            try await CLIRunner.run(["store", "backup-dir", temp.path, "--store", temp.sub("store"), "--name", "seed"])
                .status
                == 0)
        let result = try await CLIRunner.run(arguments + ["--store", temp.sub("store")])
        #expect(result.status != 0)
        #expect(result.errors.contains(message), "stderr was: \(result.errors)")
    }
}
