import Foundation
import KubeSim
import TestSupport
import Testing

@Suite("velero-cas install and uninstall against a served cluster")
struct InstallCommandTests {
    static let credentials = "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI\n"

    static func awsFlags(_ temp: TemporaryDirectory) throws -> [String] {
        try credentials.write(toFile: temp.sub("credentials"), atomically: true, encoding: .utf8)
        try "correct horse\n".write(toFile: temp.sub("password"), atomically: true, encoding: .utf8)
        return [
            "--provider", "aws", "--bucket", "backups", "--prefix", "team-a", "--backup-location-config",
            "region=eu-west-1,s3Url=http://minio.example:9000,s3ForcePathStyle=true", "--secret-file",
            temp.sub("credentials"), "--store-password-file", temp.sub("password"),
        ]
    }

    @Test(
        "install --dry-run -o yaml applies cleanly with kubectl (CRDs first), and again unchanged",
        .enabled(if: Kubectl.isInstalled, "kubectl is not installed: the kubectl check is skipped"))
    func dryRunAppliesWithKubectl() async throws {
        let temp = try TemporaryDirectory("cli-install")
        defer { temp.remove() }
        let sim = try await KubeSimServer.start(KubeSimConfiguration())
        defer { Task { try? await sim.shutdown() } }
        let kubectl = try Kubectl(writeKubeconfig: { try sim.writeKubeconfig(path: $0) })
        defer { kubectl.remove() }
        let flags = try Self.awsFlags(temp)

        let crds = try await CLIRunner.run(["install", "--crds-only", "--dry-run", "-o", "yaml"])
        #expect(crds.status == 0, "\(crds.errors)")
        let all = try await CLIRunner.run(
            [
                "install", "--dry-run", "-o", "yaml", "--namespace", "backup-system", "--use-node-agent",
                "--kubelet-root-dir", "/var/lib/k0s/kubelet", "--node-agent-host-path-volumes",
            ] + flags)
        #expect(all.status == 0, "\(all.errors)")
        #expect(all.output.hasPrefix("apiVersion: v1\nitems:"), "a v1 List, as Velero prints")

        let first = try await kubectl.run([
            "apply", "--validate=false", "-f", try kubectl.file("crds.yaml", crds.output),
        ])
        #expect(first.status == 0, "\(first.combined)")
        #expect(first.output.contains("customresourcedefinition.apiextensions.k8s.io/backups.velero.io created"))
        let file = try kubectl.file("all.yaml", all.output)
        let applied = try await kubectl.run(["apply", "--validate=false", "-f", file])
        #expect(applied.status == 0, "\(applied.combined)")
        for line in [
            "namespace/backup-system created",
            "clusterrolebinding.rbac.authorization.k8s.io/velero-backup-system created",
            "serviceaccount/velero created", "secret/cloud-credentials created",
            "secret/velero-cas-store-password created", "backupstoragelocation.velero.io/default created",
            "deployment.apps/velero created", "daemonset.apps/node-agent created",
        ] {
            #expect(applied.output.contains(line), "missing '\(line)' in \(applied.output)")
        }
        let again = try await kubectl.run(["apply", "--validate=false", "-f", file])
        #expect(
            again.status == 0 && !again.output.contains("created") && !again.output.contains("configured"),
            "\(again.combined)")

        // What the server will read: the location, its credentials, the store's password, and how it is run.
        let location = try #require(
            sim.object(at: "/apis/velero.io/v1/namespaces/backup-system/backupstoragelocations/default"))
        #expect(location["spec"]?["objectStorage"]?["bucket"] == "backups")
        #expect(location["spec"]?["objectStorage"]?["prefix"] == "team-a")
        #expect(location["spec"]?["config"]?["s3Url"] == "http://minio.example:9000")
        #expect(location["spec"]?["credential"]?["name"] == "cloud-credentials")
        #expect(location["spec"]?["default"] == true)
        let secret = try #require(sim.object(at: "/api/v1/namespaces/backup-system/secrets/cloud-credentials"))
        let cloud = try #require(secret["data"]?["cloud"]?.stringValue)
        #expect(Data(base64Encoded: cloud) == Data(Self.credentials.utf8))
        let password = try #require(
            sim.object(at: "/api/v1/namespaces/backup-system/secrets/velero-cas-store-password")?["data"]?["password"]?
                .stringValue)
        #expect(Data(base64Encoded: password) == Data("correct horse".utf8))
        let binding = try #require(
            sim.object(at: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/velero-backup-system"))
        #expect(binding["roleRef"]?["name"] == "cluster-admin")
        #expect(binding["subjects"]?.arrayValue?.first?["namespace"] == "backup-system")
        let deployment = try #require(sim.object(at: "/apis/apps/v1/namespaces/backup-system/deployments/velero"))
        let pod = try #require(deployment["spec"]?["template"]?["spec"])
        #expect(pod["serviceAccountName"] == "velero")
        let container = try #require(pod["containers"]?.arrayValue?.first)
        let version = try await versionOfBinary()
        #expect(container["image"]?.stringValue == "velero-cas:\(version)")
        let args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(args.first == "server")
        #expect(args.contains("--namespace=backup-system") && args.contains("--leader-elect=true"))
        #expect(args.contains("--metrics-address=:8085"))
        #expect(container["ports"]?.arrayValue?.first?["containerPort"] == 8085)
        let env = container["env"]?.arrayValue ?? []
        #expect(env.contains { $0["name"] == "VELERO_NAMESPACE" && $0["valueFrom"]?["fieldRef"] != nil })
        #expect(env.contains { $0["name"] == "AWS_SHARED_CREDENTIALS_FILE" && $0["value"] == "/credentials/cloud" })
        #expect(env.contains { $0["name"] == "VELERO_CAS_PASSWORD" && $0["valueFrom"]?["secretKeyRef"] != nil })
        #expect(container["readinessProbe"]?["httpGet"]?["path"] == "/readyz")
        #expect(
            container["volumeMounts"]?.arrayValue?.contains { $0["mountPath"] == "/credentials" } == true)
        #expect(args.contains("--restore-helper-image=velero-cas:\(version)"))

        // The node agent: on every node, its node from the downward API, the kubelet's pod directories mounted.
        let daemonSet = try #require(sim.object(at: "/apis/apps/v1/namespaces/backup-system/daemonsets/node-agent"))
        let agentPod = try #require(daemonSet["spec"]?["template"]?["spec"])
        #expect(agentPod["serviceAccountName"] == "velero")
        let agent = try #require(agentPod["containers"]?.arrayValue?.first)
        let agentArgs = agent["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(
            agentArgs == [
                "node-agent", "--namespace=backup-system", "--kubelet-root-dir=/var/lib/k0s/kubelet",
                "--host-root-dir=/host",
            ])
        #expect(args.contains("--node-agent-host-path-volumes"))
        let hostRoot = try #require(agentPod["volumes"]?.arrayValue?.first { $0["name"] == "host-root" })
        #expect(hostRoot["hostPath"]?["path"] == "/")
        #expect(agent["volumeMounts"]?.arrayValue?.contains { $0["mountPath"] == "/host" } == true)
        let agentEnv = agent["env"]?.arrayValue ?? []
        #expect(
            agentEnv.contains {
                $0["name"] == "NODE_NAME" && $0["valueFrom"]?["fieldRef"]?["fieldPath"] == "spec.nodeName"
            })
        #expect(agentEnv.contains { $0["name"] == "VELERO_CAS_PASSWORD" && $0["valueFrom"]?["secretKeyRef"] != nil })
        #expect(agentEnv.contains { $0["name"] == "AWS_SHARED_CREDENTIALS_FILE" })
        let hostPods = try #require(agentPod["volumes"]?.arrayValue?.first { $0["name"] == "host-pods" })
        #expect(hostPods["hostPath"]?["path"] == "/var/lib/k0s/kubelet/pods")
        let podsMount = try #require(agent["volumeMounts"]?.arrayValue?.first { $0["name"] == "host-pods" })
        #expect(podsMount["mountPath"] == "/var/lib/k0s/kubelet/pods")
        #expect(podsMount["mountPropagation"] == "HostToContainer")
        #expect(daemonSet["spec"]?["selector"]?["matchLabels"]?["name"] == "node-agent")
        #expect(daemonSet["spec"]?["template"]?["metadata"]?["labels"]?["name"] == "node-agent")
    }

    /// The version the binary reports (the default image's tag).
    func versionOfBinary() async throws -> String {
        let report = try await CLIRunner.run(["version", "--client-only", "-o", "json"]).output
        return try JSONDecoder().decode([String: String].self, from: Data(report.utf8))["clientVersion"] ?? ""
    }

    @Test("install applies through the API (create, then update; the password kept), uninstall leaves nothing")
    func installThenUninstall() async throws {
        let temp = try TemporaryDirectory("cli-install")
        defer { temp.remove() }
        let sim = try await KubeSimServer.start(KubeSimConfiguration())
        defer { Task { try? await sim.shutdown() } }
        try sim.writeKubeconfig(path: temp.sub("kubeconfig"))
        let cluster = ["--kubeconfig", temp.sub("kubeconfig")]
        let before = sim.objectCount()

        let installed = try await CLIRunner.run(
            ["install", "--wait", "--use-node-agent"] + cluster + Self.awsFlags(temp))
        #expect(installed.status == 0, "\(installed.errors)")
        #expect(installed.output.contains("Deployment/velero: created"), "\(installed.output)")
        #expect(installed.output.contains("DaemonSet/node-agent: created"), "\(installed.output)")
        #expect(sim.object(at: "/apis/apps/v1/namespaces/velero/daemonsets/node-agent") != nil)
        #expect(sim.object(at: "/apis/apps/v1/namespaces/velero/deployments/velero") != nil)
        #expect(sim.object(at: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/velero") != nil)
        #expect(sim.object(at: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.velero.io") != nil)
        let password = sim.object(at: "/api/v1/namespaces/velero/secrets/velero-cas-store-password")?["data"]

        // Again, with other settings and no password file: objects are updated, the store's password stays.
        let again = try await CLIRunner.run(
            ["install", "--provider", "local", "--backup-location-config", "path=/data/store", "--no-secret"] + cluster)
        #expect(again.status == 0, "\(again.errors)")
        #expect(again.output.contains("BackupStorageLocation/default: already exists, updated"), "\(again.output)")
        #expect(again.output.contains("velero-cas-store-password: already exists, kept"))
        let location = sim.object(at: "/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default")
        #expect(location?["spec"]?["provider"] == "local" && location?["spec"]?["config"]?["path"] == "/data/store")
        #expect(sim.object(at: "/api/v1/namespaces/velero/secrets/velero-cas-store-password")?["data"] == password)

        let declined = try await CLIRunner.run(["uninstall"] + cluster, input: "n\n")
        #expect(declined.status != 0 && declined.output.contains("Aborting uninstall"), "\(declined.output)")
        #expect(sim.object(at: "/api/v1/namespaces/velero") != nil, "nothing is deleted without confirmation")

        let removed = try await CLIRunner.run(["uninstall"] + cluster, input: "y\n")
        #expect(removed.status == 0, "\(removed.errors)")
        #expect(sim.object(at: "/api/v1/namespaces/velero") == nil)
        #expect(sim.object(at: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/velero") == nil)
        #expect(sim.object(at: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.velero.io") == nil)
        #expect(sim.objectCount() == before, "uninstall left objects behind")
        let twice = try await CLIRunner.run(["uninstall", "--force"] + cluster)
        #expect(twice.status == 0 && twice.output.contains("not found, skipped"), "\(twice.output)\(twice.errors)")
    }

    @Test("Velero's other install flags: an existing ServiceAccount, --plugins, --use-volume-snapshots, --apply")
    func veleroFlags() async throws {
        let result = try await CLIRunner.run([
            "install", "--dry-run", "-o", "json", "--provider", "aws", "--bucket", "b", "--no-secret",
            "--service-account-name", "backup-sa", "--plugins", "velero/velero-plugin-for-aws:v1.10.0",
            "--use-volume-snapshots=false", "--apply",
        ])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.contains("--plugins: not needed"))
        let list = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(list["kind"] as? String == "List")
        let items = list["items"] as? [[String: Any]] ?? []
        let kinds = items.compactMap { $0["kind"] as? String }
        #expect(!kinds.contains("ClusterRoleBinding") && !kinds.contains("ServiceAccount"), "\(kinds)")
        let objectNames = items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
        #expect(!objectNames.contains("cloud-credentials"), "--no-secret makes no credentials Secret")
        let deployment = try #require(items.first { $0["kind"] as? String == "Deployment" })
        let pod = (((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod?["serviceAccountName"] as? String == "backup-sa")

        let crds = try await CLIRunner.run(["install", "--crds-only", "--dry-run", "-o", "json"])
        let crdItems =
            (try JSONSerialization.jsonObject(with: Data(crds.output.utf8)) as? [String: Any])?["items"]
            as? [[String: Any]] ?? []
        let names = crdItems.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
        #expect(
            Set(names) == [
                "backups.velero.io", "restores.velero.io", "schedules.velero.io", "backupstoragelocations.velero.io",
                "deletebackuprequests.velero.io", "downloadrequests.velero.io", "serverstatusrequests.velero.io",
                "podvolumebackups.velero.io", "podvolumerestores.velero.io",
            ])
        #expect(
            crdItems.allSatisfy {
                (($0["metadata"] as? [String: Any])?["labels"] as? [String: String])?["component"] == "velero"
            })
    }

    /// Refused flags, each with what the error must name.
    static let refused: [(arguments: [String], mentions: String)] = [
        (["--provider", "gcp", "--bucket", "b", "--no-secret"], "--provider 'gcp'"),
        (["--provider", "aws", "--no-secret"], "--bucket"),
        (["--provider", "aws", "--bucket=-b", "--no-secret"], "--bucket '-b'"),
        (["--provider", "aws", "--bucket", "b"], "--secret-file"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--backup-location-config", "colour=blue"], "'colour'"),
        (
            ["--provider", "aws", "--bucket", "b", "--no-secret", "--backup-location-config", "s3Url=minio:9000"],
            "s3Url 'minio:9000'"
        ),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--backup-location-config", "novalue"], "'novalue'"),
        (["--provider", "local", "--backup-location-config", "path=relative", "--no-secret"], "path=relative"),
        (["--no-default-backup-location", "--bucket", "b", "--no-secret"], "--bucket"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--namespace", "Velero_NS"], "--namespace 'Velero_NS'"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--replicas", "0"], "--replicas 0"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--garbage-collection-frequency", "often"], "'often'"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--dry-run"], "-o yaml"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--dry-run", "-o", "table"], "'table'"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--pod-labels", "a=b c"], "'b c'"),
        (["--provider", "aws", "--bucket", "b", "--secret-file", "/nonexistent/creds"], "/nonexistent/creds"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--service-account-name", "Bad_SA"], "'Bad_SA'"),
        (["--provider", "aws", "--bucket", "b", "--no-secret", "--use-volume-snapshots=maybe"], "'maybe'"),
        (
            ["--provider", "aws", "--bucket", "b", "--no-secret", "--kubelet-root-dir", "kubelet"],
            "--kubelet-root-dir 'kubelet'"
        ),
        (
            ["--provider", "aws", "--bucket", "b", "--no-secret", "--node-agent-host-path-volumes"],
            "needs --use-node-agent"
        ),
    ]

    @Test("invalid flags are refused with the flag and the value, before anything is sent")
    func refusedFlags() async throws {
        for (arguments, mentions) in Self.refused {
            let result = try await CLIRunner.run(["install", "--kubeconfig", "/nonexistent/kubeconfig"] + arguments)
            #expect(result.status != 0, "\(arguments) was accepted")
            #expect(result.errors.contains(mentions), "\(arguments): \(result.errors)")
        }
    }
}
