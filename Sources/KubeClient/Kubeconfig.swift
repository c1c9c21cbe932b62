import Foundation
import Yams

/// A kubeconfig file as kubectl reads it (the parts velero-cas uses).
public struct Kubeconfig: Codable, Sendable, Equatable {
    public struct NamedCluster: Codable, Sendable, Equatable {
        public var name: String
        public var cluster: Cluster
    }
    public struct Cluster: Codable, Sendable, Equatable {
        public var server: String
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }
    public struct NamedContext: Codable, Sendable, Equatable {
        public var name: String
        public var context: Context
    }
    public struct Context: Codable, Sendable, Equatable {
        public var cluster: String
        public var user: String?
        public var namespace: String?
    }
    public struct NamedUser: Codable, Sendable, Equatable {
        public var name: String
        public var user: User
    }
    public struct User: Codable, Sendable, Equatable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var exec: ExecConfig?
        enum CodingKeys: String, CodingKey {
            case token, tokenFile, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
        }
    }
    /// An exec credential plugin (client.authentication.k8s.io), as EKS, GKE and AKS use.
    public struct ExecConfig: Codable, Sendable, Equatable {
        public var command: String
        public var args: [String]?
        public var env: [EnvVar]?
        public var apiVersion: String?
        public struct EnvVar: Codable, Sendable, Equatable {
            public var name: String
            public var value: String
        }
    }

    public var clusters: [NamedCluster]?
    public var contexts: [NamedContext]?
    public var users: [NamedUser]?
    public var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case clusters, contexts, users
        case currentContext = "current-context"
    }

    /// Parses YAML (or JSON) kubeconfig text.
    public static func parse(_ text: String, path: String) throws(KubeConfigError) -> Kubeconfig {
        do {
            return try YAMLDecoder().decode(Kubeconfig.self, from: text)
        } catch {
            throw .invalidFile(path: path, reason: "\(error)")
        }
    }

    /// Rewrites relative file references so they are relative to the file's own directory, as kubectl does.
    mutating func resolvePaths(relativeTo directory: String) {
        func resolve(_ path: String?) -> String? {
            guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
            return directory + "/" + path
        }
        for index in (clusters ?? []).indices {
            clusters![index].cluster.certificateAuthority = resolve(clusters![index].cluster.certificateAuthority)
        }
        for index in (users ?? []).indices {
            users![index].user.tokenFile = resolve(users![index].user.tokenFile)
            users![index].user.clientCertificate = resolve(users![index].user.clientCertificate)
            users![index].user.clientKey = resolve(users![index].user.clientKey)
        }
    }

    /// Merges files the way kubectl merges `KUBECONFIG`: the first file to define a name (or current-context) wins.
    public static func merge(_ configs: [Kubeconfig]) -> Kubeconfig {
        var merged = Kubeconfig()
        func union<T>(_ lists: [[T]?], name: (T) -> String) -> [T] {
            var seen: Set<String> = []
            return lists.flatMap { $0 ?? [] }.filter { seen.insert(name($0)).inserted }
        }
        merged.clusters = union(configs.map(\.clusters)) { $0.name }
        merged.contexts = union(configs.map(\.contexts)) { $0.name }
        merged.users = union(configs.map(\.users)) { $0.name }
        merged.currentContext = configs.lazy.compactMap(\.currentContext).first { !$0.isEmpty }
        return merged
    }

    public init() {}
}

/// Why a cluster connection could not be configured.
public enum KubeConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    case noConfiguration(searched: [String])
    case invalidFile(path: String, reason: String)
    case unreadableFile(path: String, reason: String)
    case noContext(available: [String])
    case unknownContext(String, available: [String])
    case unknownCluster(String, context: String)
    case unknownUser(String, context: String)
    case invalidServer(String)
    case invalidBase64(field: String)
    case execFailed(command: String, reason: String)

    public var description: String {
        switch self {
        case .noConfiguration(let searched):
            "no kubeconfig found (looked at \(searched.joined(separator: ", "))); pass --kubeconfig or set KUBECONFIG"
        case .invalidFile(let path, let reason): "kubeconfig \(path) does not parse: \(reason)"
        case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
        case .noContext(let available):
            "the kubeconfig sets no current-context; pass --kubecontext (contexts: \(available.joined(separator: ", ")))"
        case .unknownContext(let name, let available):
            "context '\(name)' is not in the kubeconfig (contexts: \(available.joined(separator: ", ")))"
        case .unknownCluster(let name, let context):
            "context '\(context)' names cluster '\(name)', which is not defined"
        case .unknownUser(let name, let context): "context '\(context)' names user '\(name)', which is not defined"
        case .invalidServer(let server): "cluster server '\(server)' is not an http:// or https:// URL"
        case .invalidBase64(let field): "\(field) is not valid base64"
        case .execFailed(let command, let reason): "credential plugin '\(command)' failed: \(reason)"
        }
    }
}
