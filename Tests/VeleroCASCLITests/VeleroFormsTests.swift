import Foundation
import KubeSim
import TestSupport
import Testing

/// What a Velero user types: verb-first commands, Go-style boolean flags, selectors, several names at once.
@Suite("Velero's command forms")
struct VeleroFormsTests {
    /// Runs `backup create x … -o json` (which prints the request without running it) and returns the request.
    static func request(_ flags: [String], temp: TemporaryDirectory) async throws -> [String: Any] {
        let kubeconfig = temp.sub("kubeconfig")
        if !FileManager.default.fileExists(atPath: kubeconfig) {
            try """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
            users: [{name: u, user: {token: t}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        }
        let result = try await CLIRunner.run(
            ["backup", "create", "x", "-o", "json", "--kubeconfig", kubeconfig, "--store", temp.sub("s")] + flags)
        #expect(result.status == 0, "\(flags): \(result.errors)")
        return try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
    }

    @Test(
        "boolean flags work bare and with =true|false (Go's spellings)",
        arguments: [
            (["--snapshot-volumes=false"], "snapshotVolumes", false),
            (["--snapshot-volumes=F"], "snapshotVolumes", false),
            (["--snapshot-volumes", "false"], "snapshotVolumes", false),
            (["--snapshot-volumes=false", "--snapshot-volumes"], "snapshotVolumes", true),
            (["--snapshot-volumes=0", "--snapshot-volumes=TRUE"], "snapshotVolumes", true),
            (["--include-cluster-resources"], "includeClusterResources", true),
            (["--include-cluster-resources=false"], "includeClusterResources", false),
            (["--include-cluster-resources=true", "--wait=true"], "includeClusterResources", true),
            (["--include-cluster-resources=1", "--wait=false"], "includeClusterResources", true),
        ] as [([String], String, Bool)])
    func booleans(flags: [String], field: String, expected: Bool) async throws {
        let temp = try TemporaryDirectory("cli-bool")
        defer { temp.remove() }
        let request = try await Self.request(flags, temp: temp)
        let value = request[field] ?? (request["filter"] as? [String: Any])?[field]
        #expect(value as? Bool == expected, "\(flags) gave \(String(describing: value))")
    }

    @Test("-l is the label selector, and list flags accumulate when repeated, as Velero's do")
    func selectorAndLists() async throws {
        let temp = try TemporaryDirectory("cli-lists")
        defer { temp.remove() }
        let request = try await Self.request(
            [
                "-l", "app=web", "--include-namespaces", "a,b", "--include-namespaces", "c", "--exclude-resources",
                "secrets",
            ],
            temp: temp)
        let filter = request["filter"] as? [String: Any]
        #expect(filter?["labelSelector"] as? String == "app=web")
        #expect(filter?["includeNamespaces"] as? [String] == ["a", "b", "c"])
        #expect(filter?["excludeResources"] as? [String] == ["secrets"])
    }

    @Test(
        "bad boolean values and unknown verb-first nouns are refused, naming the flag and the value",
        arguments: [
            (
                ["backup", "create", "x", "--snapshot-volumes=maybe"],
                "--snapshot-volumes takes true or false, not 'maybe'"
            ),
            (["backup", "create", "x", "--wait=yes"], "--wait takes true or false, not 'yes'"),
            (
                ["restore", "create", "--from-backup", "b", "--restore-volumes=nah"],
                "--restore-volumes takes true or false"
            ),
            (
                ["get", "schedulez"],
                "'get' takes one of backups, restores, schedules, backup-locations or snapshot-locations, not 'schedulez'"
            ),
            (["describe"], "'describe' takes one of"),
            (["backup", "delete", "--confirm"], "give backup names, -l/--selector or --all (exactly one)"),
            (
                ["backup", "delete", "a", "--all", "--confirm"],
                "give backup names, -l/--selector or --all (exactly one)"
            ),
            (["backup", "get", "-l", "app in x"], "-l/--selector 'app in x' is not a label selector"),
            (["backup", "get", "a", "-l", "app=x"], "give names or -l/--selector, not both"),
            (
                ["backup", "create", "x", "--include-namespaces", "*", "--include-namespaces", "demo"],
                "--include-namespaces '*,demo'"
            ),
            (["backup", "create", "x", "--include-namespaces", "*,demo"], "'*' already includes everything"),
            (
                ["backup", "create", "x", "--include-namespaces", "demo", "--exclude-namespaces", "demo"],
                "'demo' is in both --include-namespaces and --exclude-namespaces"
            ),
        ] as [([String], String)])
    func badInput(arguments: [String], message: String) async throws {
        let temp = try TemporaryDirectory("cli-forms-bad")
        defer { temp.remove() }
        let result = try await CLIRunner.run(
            arguments + ["--store", temp.sub("store")], environment: ["KUBECONFIG": temp.sub("none")])
        #expect(result.status != 0)
        #expect(result.errors.contains(message), "stderr was: \(result.errors)")
    }

    @Test("verb-first forms, several names, -l selectors, --all, describe -o json|yaml")
    func verbsAndSelectors() async throws {
        let temp = try TemporaryDirectory("cli-forms")
        defer { temp.remove() }
        let server = try await KubeSimServer.start(
            KubeSimConfiguration(synthetic: SyntheticCluster.Options(namespaces: 1, objectsPerNamespace: 5)))
        try server.writeKubeconfig(path: temp.sub("kubeconfig"))
        let common = ["--store", temp.sub("store")]
        for (name, labels) in [("a1", "app=alpha,tier=web"), ("a2", "app=alpha"), ("b1", "app=beta")] {
            let created = try await CLIRunner.run(
                ["create", "backup", name, "--labels", labels, "--kubeconfig", temp.sub("kubeconfig")] + common)
            #expect(created.status == 0, "\(created.errors)")
        }
        func names(_ arguments: [String]) async throws -> [String] {
            let result = try await CLIRunner.run(arguments + ["-o", "json"] + common)
            #expect(result.status == 0, "\(arguments): \(result.errors)")
            let list = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]] ?? []
            return list.compactMap { $0["name"] as? String }.sorted()
        }
        await #expect(try names(["get", "backups"]) == ["a1", "a2", "b1"])
        await #expect(try names(["backup", "get", "-l", "app=alpha"]) == ["a1", "a2"])
        await #expect(try names(["get", "backup", "--selector", "app!=alpha"]) == ["b1"])
        await #expect(try names(["backup", "get", "-l", "tier"]) == ["a1"])
        await #expect(try names(["backup", "get", "a2", "b1"]) == ["a2", "b1"])
        let missing = try await CLIRunner.run(["backup", "get", "a1", "zz"] + common)
        #expect(missing.status != 0 && missing.errors.contains("backup 'zz' not found"))
        let labelled = try await CLIRunner.run(["backup", "get", "--show-labels=true"] + common)
        #expect(labelled.output.contains("LABELS") && labelled.output.contains("app=alpha,tier=web"))

        let describedJSON = try await CLIRunner.run(["describe", "backup", "a1", "-o", "json"] + common)
        let object = try JSONSerialization.jsonObject(with: Data(describedJSON.output.utf8)) as? [String: Any]
        #expect(object?["name"] as? String == "a1")
        #expect((object?["labels"] as? [String: String]) == ["app": "alpha", "tier": "web"])
        #expect(object?["phase"] as? String == "Completed")
        let describedYAML = try await CLIRunner.run(["backup", "describe", "a2", "-o", "yaml"] + common)
        #expect(describedYAML.output.contains("name: a2") && describedYAML.output.contains("phase: Completed"))
        let describedTable = try await CLIRunner.run(["backup", "describe", "-l", "app=alpha"] + common)
        #expect(
            describedTable.output.contains("Name:         a1") && describedTable.output.contains("Name:         a2"))
        #expect(describedTable.output.contains("Labels:       app=alpha,tier=web"))
        #expect(!describedTable.output.contains("Name:         b1"))

        let unconfirmed = try await CLIRunner.run(["delete", "backup", "-l", "app=alpha"] + common)
        #expect(unconfirmed.status != 0 && unconfirmed.errors.contains("deleting backups a1, a2 needs --confirm"))
        await #expect(try names(["get", "backups"]) == ["a1", "a2", "b1"], "nothing deleted without --confirm")
        let deleted = try await CLIRunner.run(["delete", "backup", "-l", "app=alpha", "--confirm"] + common)
        #expect(deleted.status == 0, "\(deleted.errors)")
        #expect(deleted.output.contains("backup a1 deleted") && deleted.output.contains("backup a2 deleted"))
        await #expect(try names(["get", "backups"]) == ["b1"])
        let all = try await CLIRunner.run(["backup", "delete", "--all", "--confirm=true"] + common)
        #expect(all.status == 0, "\(all.errors)")
        await #expect(try names(["get", "backups"]) == [])
        try await server.shutdown()
    }

    @Test("restores: get, describe and delete by names, -l or --all; Velero's restore flag spellings")
    func restores() async throws {
        let temp = try TemporaryDirectory("cli-restores")
        defer { temp.remove() }
        let source = try await KubeSimServer.start(
            KubeSimConfiguration(synthetic: SyntheticCluster.Options(namespaces: 1, objectsPerNamespace: 5)))
        let target = try await KubeSimServer.start(KubeSimConfiguration())
        try source.writeKubeconfig(path: temp.sub("a"))
        try target.writeKubeconfig(path: temp.sub("b"))
        let common = ["--store", temp.sub("store")]
        #expect(
            try await CLIRunner.run(["backup", "create", "b1", "--kubeconfig", temp.sub("a")] + common).status == 0)
        for (name, labels) in [("r1", "team=a"), ("r2", "team=a,env=prod"), ("r3", "team=b")] {
            let restored = try await CLIRunner.run(
                [
                    "create", "restore", name, "--from-backup", "b1", "--labels", labels, "--kubeconfig", temp.sub("b"),
                    "--existing-resource-policy", "update", "--preserve-nodeports", "--restore-volumes=false",
                    "-l", "app!=nothing-has-this", "-n", "velero",
                ] + common)
            #expect(restored.status == 0, "\(name): \(restored.errors)")
        }
        func names(_ arguments: [String]) async throws -> [String] {
            let result = try await CLIRunner.run(arguments + ["-o", "json"] + common)
            #expect(result.status == 0, "\(arguments): \(result.errors)")
            let list = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]] ?? []
            return list.compactMap { $0["name"] as? String }.sorted()
        }
        await #expect(try names(["get", "restores"]) == ["r1", "r2", "r3"])
        await #expect(try names(["restore", "get", "-l", "team=a"]) == ["r1", "r2"])
        await #expect(try names(["restore", "get", "r3"]) == ["r3"])
        let described = try await CLIRunner.run(["describe", "restore", "r2", "-o", "json"] + common)
        let object = try JSONSerialization.jsonObject(with: Data(described.output.utf8)) as? [String: Any]
        #expect(object?["name"] as? String == "r2" && object?["backup"] as? String == "b1")
        #expect((object?["options"] as? [String: Any])?["preserveNodePorts"] as? Bool == true)
        let table = try await CLIRunner.run(["restore", "describe", "-l", "env=prod"] + common)
        #expect(table.output.contains("Name:         r2") && table.output.contains("Labels:       env=prod,team=a"))
        #expect(!table.output.contains("Name:         r1"))

        let unconfirmed = try await CLIRunner.run(["restore", "delete", "-l", "team=a"] + common)
        #expect(unconfirmed.status != 0 && unconfirmed.errors.contains("deleting restores r1, r2 needs --confirm"))
        let deleted = try await CLIRunner.run(["delete", "restore", "-l", "team=a", "--confirm"] + common)
        #expect(deleted.status == 0, "\(deleted.errors)")
        await #expect(try names(["get", "restores"]) == ["r3"])
        #expect(
            try await CLIRunner.run(["restore", "logs", "r1"] + common).status != 0, "the log went with the record")
        await #expect(try names(["get", "backups"]) == ["b1"], "deleting restores leaves the backup")
        #expect(try await CLIRunner.run(["restore", "delete", "--all", "--confirm"] + common).status == 0)
        await #expect(try names(["get", "restores"]) == [])
        let missing = try await CLIRunner.run(["restore", "delete", "r9", "--confirm"] + common)
        #expect(missing.status != 0 && missing.errors.contains("restore 'r9' not found"))
        let star = try await CLIRunner.run(
            [
                "restore", "create", "--from-backup", "b1", "--include-namespaces", "*,demo", "--kubeconfig",
                temp.sub("b"),
            ]
                + common)
        #expect(star.status != 0 && star.errors.contains("'*' already includes everything"), "\(star.errors)")
        try await source.shutdown()
        try await target.shutdown()
    }

    @Test("backup-location with Velero's provider flags; snapshot-location; the old 'location' name still works")
    func locations() async throws {
        let temp = try TemporaryDirectory("cli-bsl")
        defer { temp.remove() }
        let environment = ["VELERO_CAS_CONFIG": temp.sub("locations.yaml"), "HOME": temp.sub("home")]
        func run(_ arguments: [String]) async throws -> CLIRunner.Result {
            try await CLIRunner.run(arguments, environment: environment)
        }
        let s3 = try await run([
            "create", "backup-location", "cloud", "--provider", "aws", "--bucket", "velero-bucket", "--prefix",
            "/team-a/", "--config", "region=eu-west-1,s3Url=http://127.0.0.1:5000,s3ForcePathStyle=true",
        ])
        #expect(s3.status == 0, "\(s3.errors)")
        let local = try await run([
            "backup-location", "create", "disk", "--provider", "local", "--config", "path=\(temp.sub("d"))",
            "--default",
        ])
        #expect(local.status == 0, "\(local.errors)")
        let listed = try await run(["get", "backup-locations", "-o", "json"])
        let locations = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]] ?? []
        let stores = Dictionary(
            uniqueKeysWithValues: locations.map { ($0["name"] as? String ?? "", $0["store"] as? String ?? "") })
        #expect(
            stores["cloud"]
                == "s3://velero-bucket/team-a?region=eu-west-1&endpoint=http://127.0.0.1:5000&addressing=path")
        #expect(stores["disk"] == temp.sub("d"))
        #expect(try await run(["location", "get", "--default"]).output.contains("disk"))
        #expect(!(try await run(["backup-location", "get", "--default"]).output.contains("cloud")))
        #expect(try await run(["backup-location", "set", "cloud", "--default"]).status == 0)
        #expect(try await run(["backup-location", "get", "--default"]).output.contains("cloud"))

        for (arguments, message) in [
            (["--provider", "aws", "--bucket", "velero-bucket", "--config", "kmsKeyId=k"], "--config key 'kmsKeyId'"),
            (["--provider", "aws"], "--provider aws needs --bucket"),
            (["--provider", "gcp", "--bucket", "b"], "--provider 'gcp' is not supported"),
            (["--provider", "local"], "--provider local needs --config path=DIR"),
            (["--provider", "aws", "--bucket", "bbb", "--config", "s3ForcePathStyle=sure"], "s3ForcePathStyle"),
            (["--store", "/x", "--provider", "local"], "--store cannot be combined"),
            ([], "give --store, or --provider"),
        ] {
            let result = try await run(["backup-location", "create", "bad"] + arguments)
            #expect(result.status != 0 && result.errors.contains(message), "\(arguments): \(result.errors)")
        }

        #expect(
            try await run(["create", "snapshot-location", "vsl-1", "--provider", "aws", "--config", "region=x"]).status
                == 0)
        let snapshots = try await run(["get", "snapshot-locations"])
        #expect(snapshots.output.contains("vsl-1") && snapshots.output.contains("region=x"))
        let unknown = try await run(["backup", "create", "b", "--volume-snapshot-locations", "vsl-1,vsl-2"])
        #expect(
            unknown.status != 0 && unknown.errors.contains("--volume-snapshot-locations: 'vsl-2' is not configured"))
        #expect(try await run(["delete", "snapshot-location", "vsl-1"]).status == 0)
        #expect(!(try await run(["get", "snapshot-locations"]).output.contains("vsl-1")))

        #expect(try await run(["delete", "backup-location", "--all", "--confirm"]).status == 0)
        #expect(!(try await run(["backup-location", "get"]).output.contains("cloud")))
    }

    @Test("version, and completion scripts for bash, zsh and fish")
    func versionAndCompletion() async throws {
        let version = try await CLIRunner.run(["version", "-o", "json"])
        let report = try JSONSerialization.jsonObject(with: Data(version.output.utf8)) as? [String: Any]
        #expect((report?["clientVersion"] as? String)?.isEmpty == false)
        #expect(report?["veleroAPI"] as? String == "velero.io/v1")
        #expect(try await CLIRunner.run(["version", "--client-only"]).output.contains("Client:"))
        #expect(!(try await CLIRunner.run(["version", "--client-only"]).output.contains("Server:")))
        let unknown = try await CLIRunner.run(["completion", "tcsh"])
        #expect(unknown.status != 0 && unknown.errors.contains("completion takes bash, zsh or fish, not 'tcsh'"))
        for shell in ["bash", "zsh", "fish"] {
            let script = try await CLIRunner.run(["completion", shell])
            #expect(script.status == 0)
            // Completion scripts list the subcommands they complete.
            for word in ["backup", "restore", "backup-location", "download"] {
                #expect(script.output.contains(word), "\(shell) script lacks \(word)")
            }
        }
    }
}
