import Foundation
import HTTPTransport
import TestSupport
import Testing

@testable import KubeClient

@Suite("kubeconfig loading")
struct KubeconfigTests {
    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func config(user: String, server: String = "https://10.0.0.1:6443", cluster: String = "") -> String {
        """
        apiVersion: v1
        kind: Config
        current-context: main
        clusters:
        - name: c1
          cluster:
            server: \(server)
        \(cluster)
        contexts:
        - name: main
          context: {cluster: c1, user: u1, namespace: team-a}
        - name: other
          context: {cluster: c1, user: u2}
        users:
        - name: u1
          user:
        \(user)
        - name: u2
          user: {token: second-token}
        """
    }

    @Test("a static token, the context's namespace, and --kubecontext")
    func token() throws {
        let temp = try TemporaryDirectory("kubeconfig")
        defer { temp.remove() }
        try Self.write(Self.config(user: "    token: abc123"), to: temp.sub("config"))
        let main = try ClusterConfiguration.load(path: temp.sub("config"), context: nil, environment: [:])
        #expect(main.server == "https://10.0.0.1:6443")
        #expect(main.credentials == .token("abc123"))
        #expect(main.namespace == "team-a")
        #expect(main.tls.verifyPeer)
        let other = try ClusterConfiguration.load(path: temp.sub("config"), context: "other", environment: [:])
        #expect(other.credentials == .token("second-token"))
    }

    @Test("tokenFile and client certificate files resolve relative to the kubeconfig's directory")
    func relativeFiles() throws {
        let temp = try TemporaryDirectory("kubeconfig")
        defer { temp.remove() }
        try Self.write("CERT", to: temp.sub("client.crt"))
        try Self.write("KEY", to: temp.sub("client.key"))
        try Self.write("CA", to: temp.sub("ca.crt"))
        try Self.write(
            Self.config(
                user: "    tokenFile: token\n    client-certificate: client.crt\n    client-key: client.key",
                cluster: "    certificate-authority: ca.crt"), to: temp.sub("config"))
        let configuration = try ClusterConfiguration.load(path: temp.sub("config"), context: nil, environment: [:])
        #expect(configuration.credentials == .tokenFile(temp.sub("token")))
        #expect(configuration.tls.clientCertificatePEM == Array("CERT".utf8))
        #expect(configuration.tls.clientKeyPEM == Array("KEY".utf8))
        #expect(configuration.tls.certificateAuthorityFile == temp.sub("ca.crt"))
    }

    @Test("-data fields are base64, insecure-skip-tls-verify turns verification off")
    func inlineData() throws {
        let temp = try TemporaryDirectory("kubeconfig")
        defer { temp.remove() }
        let cert = Data("PEM-CERT".utf8).base64EncodedString()
        let ca = Data("PEM-CA".utf8).base64EncodedString()
        try Self.write(
            Self.config(
                user: "    client-certificate-data: \(cert)\n    client-key-data: \(cert)",
                cluster: "    certificate-authority-data: \(ca)\n    insecure-skip-tls-verify: true"),
            to: temp.sub("config"))
        let configuration = try ClusterConfiguration.load(path: temp.sub("config"), context: nil, environment: [:])
        #expect(configuration.tls.certificateAuthorityPEM == Array("PEM-CA".utf8))
        #expect(configuration.tls.clientCertificatePEM == Array("PEM-CERT".utf8))
        #expect(!configuration.tls.verifyPeer)
    }

    @Test("KUBECONFIG lists are merged: the first file to define a name or current-context wins")
    func merging() throws {
        let temp = try TemporaryDirectory("kubeconfig")
        defer { temp.remove() }
        try Self.write(Self.config(user: "    token: from-first"), to: temp.sub("a"))
        try Self.write(
            Self.config(user: "    token: from-second", server: "https://other:6443").replacingOccurrences(
                of: "current-context: main", with: "current-context: other"),
            to: temp.sub("b"))
        let configuration = try ClusterConfiguration.load(
            path: nil, context: nil,
            environment: ["KUBECONFIG": "\(temp.sub("missing")):\(temp.sub("a")):\(temp.sub("b"))"])
        #expect(configuration.contextName == "main")
        #expect(configuration.credentials == .token("from-first"))
        #expect(configuration.server == "https://10.0.0.1:6443")
    }

    @Test(
        "bad kubeconfigs get messages naming the problem",
        arguments: [
            ("not: [valid", "does not parse"),
            ("clusters: []\ncontexts: []\nusers: []", "sets no current-context"),
            (
                "current-context: ghost\ncontexts: [{name: real, context: {cluster: c}}]",
                "context 'ghost' is not in the kubeconfig"
            ),
            ("current-context: x\ncontexts: [{name: x, context: {cluster: nope}}]", "names cluster 'nope'"),
            (
                "current-context: x\nclusters: [{name: c, cluster: {server: 'ftp://h'}}]\ncontexts: [{name: x, context: {cluster: c}}]",
                "not an http:// or https:// URL"
            ),
            (
                "current-context: x\nclusters: [{name: c, cluster: {server: 'https://h'}}]\ncontexts: [{name: x, context: {cluster: c, user: who}}]",
                "names user 'who'"
            ),
            (
                "current-context: x\nclusters: [{name: c, cluster: {server: 'https://h', certificate-authority-data: '***'}}]\ncontexts: [{name: x, context: {cluster: c}}]",
                "certificate-authority-data is not valid base64"
            ),
        ])
    func badFiles(text: String, message: String) throws {
        let temp = try TemporaryDirectory("kubeconfig")
        defer { temp.remove() }
        try Self.write(text, to: temp.sub("config"))
        let error = #expect(throws: KubeConfigError.self) {
            try ClusterConfiguration.load(path: temp.sub("config"), context: nil, environment: [:])
        }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test("a missing explicit kubeconfig and an empty search are errors")
    func missing() throws {
        #expect(throws: KubeConfigError.self) {
            try ClusterConfiguration.load(path: "/nonexistent/config", context: nil, environment: [:])
        }
        let error = #expect(throws: KubeConfigError.self) {
            try ClusterConfiguration.load(path: nil, context: nil, environment: ["HOME": "/nonexistent"])
        }
        #expect(error?.description.contains("no kubeconfig found") == true)
    }

    @Test("in-cluster configuration uses the service-account token, CA and namespace")
    func inCluster() throws {
        let temp = try TemporaryDirectory("incluster")
        defer { temp.remove() }
        try Self.write("sa-token", to: temp.sub("token"))
        try Self.write("velero", to: temp.sub("namespace"))
        let configuration = try ClusterConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
            accountDirectory: temp.path)
        #expect(configuration.server == "https://10.96.0.1:443")
        #expect(configuration.credentials == .tokenFile(temp.sub("token")))
        #expect(configuration.tls.certificateAuthorityFile == temp.sub("ca.crt"))
        #expect(configuration.namespace == "velero")
        #expect(throws: KubeConfigError.self) { try ClusterConfiguration.inCluster(environment: [:]) }
    }

    @Test("an exec credential plugin's token is used, and a failing plugin is a clear error")
    func execPlugin() async throws {
        let temp = try TemporaryDirectory("exec")
        defer { temp.remove() }
        let script = temp.sub("plugin.sh")
        try Self.write(
            """
            #!/bin/sh
            case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) echo "no exec info" >&2; exit 3;; esac
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"token-from-'"$PLUGIN_SUFFIX"'"}}'
            """, to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        let exec = Kubeconfig.ExecConfig(
            command: script, args: [], env: [.init(name: "PLUGIN_SUFFIX", value: "plugin")], apiVersion: nil)
        let provider = CredentialProvider(.exec(exec))
        #expect(try await provider.authorization() == "Bearer token-from-plugin")

        let failing = CredentialProvider(
            .exec(Kubeconfig.ExecConfig(command: "/bin/false", args: nil, env: nil, apiVersion: nil)))
        await #expect(throws: KubeConfigError.self) { try await failing.authorization() }
    }
}
