import Foundation
import HTTPTransport
import SystemIO

/// Everything needed to talk to one cluster: where, how to trust it, and who we are.
public struct ClusterConfiguration: Sendable {
    public enum Credentials: Sendable, Equatable {
        case none
        case token(String)
        /// Re-read on every request, so rotated service-account tokens keep working.
        case tokenFile(String)
        case exec(Kubeconfig.ExecConfig)
    }

    /// Base URL without a trailing slash, e.g. https://10.0.0.1:6443.
    public var server: String
    public var tls: TLSConfiguration
    public var credentials: Credentials
    /// The context's default namespace.
    public var namespace: String?
    /// The context name, for messages.
    public var contextName: String

    public init(
        server: String, tls: TLSConfiguration = TLSConfiguration(), credentials: Credentials = .none,
        namespace: String? = nil, contextName: String = "default"
    ) {
        var server = server
        while server.hasSuffix("/") { server.removeLast() }
        self.server = server
        self.tls = tls
        self.credentials = credentials
        self.namespace = namespace
        self.contextName = contextName
    }

    /// Loads the configuration like kubectl: `path` if given, else every file in `KUBECONFIG` (colon-separated,
    /// merged), else ~/.kube/config; then `context` or the current-context.
    public static func load(path: String?, context: String?, environment: [String: String]) throws(KubeConfigError)
        -> ClusterConfiguration
    {
        let candidates: [String]
        if let path {
            candidates = [path]
        } else if let list = environment["KUBECONFIG"], !list.isEmpty {
            candidates = list.split(separator: ":").map(String.init)
        } else {
            candidates = [(environment["HOME"] ?? "/root") + "/.kube/config"]
        }
        var configs: [Kubeconfig] = []
        for file in candidates {
            let bytes: [UInt8]
            do {
                bytes = try FileSystem.readFile(file)
            } catch {
                // kubectl ignores missing files in KUBECONFIG but not an explicit --kubeconfig.
                if path != nil || !error.isNotFound { throw .unreadableFile(path: file, reason: error.description) }
                continue
            }
            var config = try Kubeconfig.parse(String(decoding: bytes, as: UTF8.self), path: file)
            config.resolvePaths(relativeTo: Path.parent(of: file))
            configs.append(config)
        }
        guard !configs.isEmpty else { throw .noConfiguration(searched: candidates) }
        return try resolve(Kubeconfig.merge(configs), context: context)
    }

    /// Picks the context and turns its cluster and user into a configuration.
    public static func resolve(_ config: Kubeconfig, context name: String?) throws(KubeConfigError)
        -> ClusterConfiguration
    {
        let contextNames = (config.contexts ?? []).map(\.name)
        guard let contextName = name ?? config.currentContext else { throw .noContext(available: contextNames) }
        guard let context = config.contexts?.first(where: { $0.name == contextName })?.context else {
            throw .unknownContext(contextName, available: contextNames)
        }
        guard let cluster = config.clusters?.first(where: { $0.name == context.cluster })?.cluster else {
            throw .unknownCluster(context.cluster, context: contextName)
        }
        guard cluster.server.hasPrefix("https://") || cluster.server.hasPrefix("http://") else {
            throw .invalidServer(cluster.server)
        }
        var tls = TLSConfiguration(verifyPeer: !(cluster.insecureSkipTLSVerify ?? false))
        tls.certificateAuthorityFile = cluster.certificateAuthority
        if let data = cluster.certificateAuthorityData {
            tls.certificateAuthorityPEM = try decodeBase64(data, field: "certificate-authority-data")
        }
        var credentials = Credentials.none
        if let userName = context.user, !userName.isEmpty {
            guard let user = config.users?.first(where: { $0.name == userName })?.user else {
                throw .unknownUser(userName, context: contextName)
            }
            if let data = user.clientCertificateData {
                tls.clientCertificatePEM = try decodeBase64(data, field: "client-certificate-data")
            } else if let file = user.clientCertificate {
                tls.clientCertificatePEM = try readFile(file)
            }
            if let data = user.clientKeyData {
                tls.clientKeyPEM = try decodeBase64(data, field: "client-key-data")
            } else if let file = user.clientKey {
                tls.clientKeyPEM = try readFile(file)
            }
            if let token = user.token, !token.isEmpty {
                credentials = .token(token)
            } else if let file = user.tokenFile {
                credentials = .tokenFile(file)
            } else if let exec = user.exec {
                credentials = .exec(exec)
            }
        }
        return ClusterConfiguration(
            server: cluster.server, tls: tls, credentials: credentials, namespace: context.namespace,
            contextName: contextName)
    }

    /// The configuration a pod gets: its service-account token and CA, and KUBERNETES_SERVICE_HOST/PORT.
    public static func inCluster(
        environment: [String: String], accountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(KubeConfigError) -> ClusterConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"]
        else { throw .noConfiguration(searched: ["KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT"]) }
        let tokenPath = accountDirectory + "/token"
        _ = try readFile(tokenPath)
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let namespace = try? readFile(accountDirectory + "/namespace")
        return ClusterConfiguration(
            server: "https://\(hostPart):\(port)",
            tls: TLSConfiguration(certificateAuthorityFile: accountDirectory + "/ca.crt"),
            credentials: .tokenFile(tokenPath),
            namespace: namespace.map { String(decoding: $0, as: UTF8.self) }, contextName: "in-cluster")
    }

    static func decodeBase64(_ text: String, field: String) throws(KubeConfigError) -> [UInt8] {
        guard let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) else {
            throw .invalidBase64(field: field)
        }
        return Array(data)
    }

    static func readFile(_ path: String) throws(KubeConfigError) -> [UInt8] {
        do { return try FileSystem.readFile(path) } catch {
            throw .unreadableFile(path: path, reason: error.description)
        }
    }
}
