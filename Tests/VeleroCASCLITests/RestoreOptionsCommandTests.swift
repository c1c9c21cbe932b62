import Foundation
import KubeSim
import TestSupport
import Testing

/// `restore create`'s Velero options end to end: a served source cluster backed up into a store, restored into a
/// served target cluster holding Velero's ConfigMaps.
@Suite("velero-cas restore create options")
struct RestoreOptionsCommandTests {
    /// Creates an object in the served cluster as a POST would; `kind` is "apiVersion Kind".
    static func create(_ server: KubeSimServer, _ kind: String, namespace: String? = nil, _ json: String) throws {
        let parts = kind.split(separator: " ").map(String.init)
        let namespaceField = namespace.map { #""namespace":"\#($0)","# } ?? ""
        let body = json.replacingOccurrences(of: #"{"metadata":{"#, with: #"{"metadata":{\#(namespaceField)"#)
        let full = #"{"apiVersion":"\#(parts[0])","kind":"\#(parts[1])","# + body.dropFirst()
        try server.create(try JSONValue.parse(Array(full.utf8)))
    }

    static func get(_ server: KubeSimServer, _ path: String) throws -> [String: Any] {
        let bytes = try #require(server.objectBytes(at: path), "\(path)")
        return try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] ?? [:]
    }

    @Test("resource modifiers, storage-class and image-name ConfigMaps, labels on the record, namespace globs")
    func configuredRestore() async throws {
        let temp = try TemporaryDirectory("cli-restore-options")
        defer { temp.remove() }
        let source = try await KubeSimServer.start(KubeSimConfiguration())
        let target = try await KubeSimServer.start(KubeSimConfiguration())
        try source.writeKubeconfig(path: temp.sub("a"))
        try target.writeKubeconfig(path: temp.sub("b"))
        let store = ["--store", temp.sub("store")]
        for name in ["team-a", "team-b", "other"] {
            try Self.create(source, "v1 Namespace", #"{"metadata":{"name":"\#(name)"}}"#)
            try Self.create(
                source, "apps/v1 Deployment", namespace: name,
                #"{"metadata":{"name":"web","labels":{"app":"web"}},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"docker.io/library/nginx:1.25"}]}}}}"#
            )
            try Self.create(
                source, "v1 PersistentVolumeClaim", namespace: name,
                #"{"metadata":{"name":"data"},"spec":{"storageClassName":"slow","accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}"#
            )
        }
        #expect(
            try await CLIRunner.run(["backup", "create", "teams", "--kubeconfig", temp.sub("a")] + store).status == 0)

        // Velero's configuration in the target cluster.
        try Self.create(target, "v1 Namespace", #"{"metadata":{"name":"velero"}}"#)
        try Self.create(
            target, "storage.k8s.io/v1 StorageClass",
            #"{"metadata":{"name":"fast"},"provisioner":"example.com/fast"}"#)
        let rules = """
            version: v1
            resourceModifierRules:
            - conditions:
                groupResource: deployments.apps
                namespaces: ["team-*"]
              patches:
              - operation: replace
                path: /spec/replicas
                value: "1"
            """
        let configMaps: [(String, String, String)] = [
            ("modifiers", "", #"{"rules.yaml":\#(Self.quoted(rules))}"#),
            (
                "storage-class",
                #""velero.io/plugin-config":"","velero.io/change-storage-class":"RestoreItemAction""#,
                #"{"slow":"fast"}"#
            ),
            (
                "image-name", #""velero.io/plugin-config":"","velero.io/change-image-name":"RestoreItemAction""#,
                #"{"case1":"docker.io/library,registry.local/mirror"}"#
            ),
        ]
        for (name, labels, data) in configMaps {
            try Self.create(
                target, "v1 ConfigMap", namespace: "velero",
                #"{"metadata":{"name":"\#(name)","labels":{\#(labels)}},"data":\#(data)}"#)
        }

        let restored = try await CLIRunner.run(
            [
                "restore", "create", "teams-1", "--from-backup", "teams", "--kubeconfig", temp.sub("b"),
                "--include-namespaces", "team-[ab],other", "--exclude-namespaces", "team-b",
                "--resource-modifier-configmap", "modifiers", "--labels", "ticket=T-1,env=prod", "--annotations",
                "reason=drill",
            ] + store)
        #expect(restored.status == 0, "\(restored.output) \(restored.errors)")
        #expect(target.objectCount(namespace: "team-b") == 0)
        let teamA = try Self.get(target, "/apis/apps/v1/namespaces/team-a/deployments/web")
        let spec = teamA["spec"] as? [String: Any]
        #expect(spec?["replicas"] as? Int == 1)
        let container =
            ((spec?["template"] as? [String: Any])?["spec"] as? [String: Any])?["containers"] as? [[String: Any]]
        #expect(container?.first?["image"] as? String == "registry.local/mirror/nginx:1.25")
        let labels = (teamA["metadata"] as? [String: Any])?["labels"] as? [String: String]
        #expect(labels == ["app": "web", "velero.io/backup-name": "teams", "velero.io/restore-name": "teams-1"])
        let other = try Self.get(target, "/apis/apps/v1/namespaces/other/deployments/web")
        #expect((other["spec"] as? [String: Any])?["replicas"] as? Int == 3, "the rule is for team-* only")
        let claim = try Self.get(target, "/api/v1/namespaces/other/persistentvolumeclaims/data")
        #expect((claim["spec"] as? [String: Any])?["storageClassName"] as? String == "fast")

        let record = try await CLIRunner.run(["restore", "get", "-o", "json"] + store)
        let records = try JSONSerialization.jsonObject(with: Data(record.output.utf8)) as? [[String: Any]]
        #expect(records?.first?["labels"] as? [String: String] == ["ticket": "T-1", "env": "prod"])
        #expect(records?.first?["annotations"] as? [String: String] == ["reason": "drill"])

        // A missing modifier ConfigMap fails up front, recorded as FailedValidation, and nothing is restored.
        let missing = try await CLIRunner.run(
            [
                "restore", "create", "teams-2", "--from-backup", "teams", "--kubeconfig", temp.sub("b"),
                "--include-namespaces", "team-b", "--resource-modifier-configmap", "nope",
            ] + store)
        #expect(missing.status != 0)
        #expect(missing.errors.contains("--resource-modifier-configmap 'nope'"), "\(missing.errors)")
        #expect(missing.errors.contains("velero/nope not found"), "\(missing.errors)")
        #expect(target.objectCount(namespace: "team-b") == 0)
        let failed = try await CLIRunner.run(["restore", "get"] + store)
        #expect(failed.output.contains("teams-2") && failed.output.contains("FailedValidation"), "\(failed.output)")

        // Invalid rules: the error names the rule and the field.
        try Self.create(
            target, "v1 ConfigMap", namespace: "velero",
            #"{"metadata":{"name":"broken"},"data":{"r":"version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: jump, path: /x}]\n"}}"#
        )
        let broken = try await CLIRunner.run(
            [
                "restore", "create", "teams-3", "--from-backup", "teams", "--kubeconfig", temp.sub("b"),
                "--resource-modifier-configmap", "broken",
            ] + store)
        #expect(broken.status != 0)
        #expect(broken.errors.contains("resourceModifierRules[0].patches[0].operation 'jump'"), "\(broken.errors)")
        try await source.shutdown()
        try await target.shutdown()
    }

    static func quoted(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    @Test(
        "bad restore options get a message naming the flag and the value",
        arguments: [
            (
                ["--include-namespaces", "Team_A"],
                "--include-namespaces 'Team_A' is not a valid namespace name or pattern"
            ),
            (["--exclude-namespaces", "team-[ab"], "--exclude-namespaces 'team-[ab' is not a valid namespace name"),
            (["--include-namespaces", "team-**"], "--include-namespaces 'team-**'"),
            (["--labels", "novalue"], "--labels 'novalue' must be key=value"),
            (["--labels", "bad key=x"], "--labels 'bad key=x' is not a valid label"),
            (["--annotations", "=x"], "--annotations '=x' must be key=value"),
            (["--include-resources", "nodes"], "--include-resources 'nodes': nodes are non-restorable resources"),
        ])
    func badInput(arguments: [String], message: String) async throws {
        let temp = try TemporaryDirectory("cli-restore-bad")
        defer { temp.remove() }
        let result = try await CLIRunner.run(
            ["restore", "create", "--from-backup", "b", "--store", temp.sub("store")] + arguments)
        #expect(result.status != 0)
        #expect(result.errors.contains(message), "stderr was: \(result.errors)")
    }
}
