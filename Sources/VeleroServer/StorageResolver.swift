import BackupModel
import ChunkStore
import Foundation
import HTTPTransport
import KubeClient
import SystemIO
import VeleroAPI

/// A store the server writes to or reads from, opened.
struct ResolvedLocation: Sendable {
    var name: String
    var repository: Repository
    var readOnly: Bool
}

/// Why a storage location cannot be used; the backup or restore naming it fails validation with this.
struct LocationError: Error, CustomStringConvertible {
    var description: String
}

/// Finds the store a Backup names: its BackupStorageLocation object in the server's namespace (provider `aws` with
/// Velero's config keys, or `local` with `config.path`), else a location the server was given on its command line
/// (`fallback`). An empty name means the location marked `default: true`, else the one named "default". Opened
/// repositories are kept per location and reopened when the location's spec changes.
actor StorageResolver {
    typealias Fallback = @Sendable (_ name: String, _ create: Bool) async throws -> Repository?

    private let client: KubeClient
    private let namespace: String
    private let passwords: any PasswordSource
    private let fallback: Fallback?
    private let credentialsDirectory: String
    /// Opened (or being opened) repositories by location name and the location object's version. A task, not a
    /// value: two backups resolving a location at once must share one opening (two openings of a new store would
    /// each create it, with different keys).
    private var opened: [String: (version: String, repository: Task<Repository, any Error>)] = [:]

    init(
        client: KubeClient, namespace: String, passwords: any PasswordSource, fallback: Fallback?,
        credentialsDirectory: String
    ) {
        self.client = client
        self.namespace = namespace
        self.passwords = passwords
        self.fallback = fallback
        self.credentialsDirectory = credentialsDirectory
    }

    /// The location's name when `requested` is empty.
    func defaultName() async throws -> String {
        let locations = try await ObjectAccess<BackupStorageLocation>(client: client, namespace: namespace).list()
        return locations.first { $0.spec.default == true }?.name ?? "default"
    }

    /// Opens the named location (`create`: make the store when it does not exist yet, for backups).
    func resolve(_ requested: String?, create: Bool) async throws -> ResolvedLocation {
        let name: String
        if let requested, !requested.isEmpty { name = requested } else { name = try await defaultName() }
        let access = ObjectAccess<BackupStorageLocation>(client: client, namespace: namespace)
        switch try await access.fetch(name) {
        case .object(let location):
            // The spec, not the resourceVersion: status writes (validation, sync) must not reopen the store.
            let version = String(decoding: (try? Velero.encoder().encode(location.spec)) ?? Data(), as: UTF8.self)
            var attempt = 0
            while true {
                let opening: Task<Repository, any Error>
                if let cached = opened[name], cached.version == version {
                    opening = cached.repository
                } else {
                    opening = Task { try await open(location, create: create) }
                    opened[name] = (version, opening)
                }
                do {
                    return ResolvedLocation(
                        name: name, repository: try await repository(opening, name: name),
                        readOnly: location.spec.isReadOnly)
                } catch ChunkStoreError.repositoryNotFound where create && attempt == 0 {
                    // The shared opening was a reader's (validation, sync) and found no store: this backup makes
                    // one. The failed opening is forgotten, so the next one creates.
                    attempt += 1
                }
            }
        case .malformed(_, let reason):
            throw LocationError(description: "backup storage location '\(name)' is malformed: \(reason)")
        case .missing:
            let opening: Task<Repository, any Error>
            if let cached = opened[name], cached.version == "fallback" {
                opening = cached.repository
            } else {
                let (fallback, namespace) = (fallback, namespace)
                opening = Task {
                    guard let repository = try await fallback?(name, create) else {
                        throw LocationError(
                            description: "backup storage location '\(name)' does not exist in namespace \(namespace)")
                    }
                    return repository
                }
                opened[name] = ("fallback", opening)
            }
            return ResolvedLocation(name: name, repository: try await repository(opening, name: name), readOnly: false)
        }
    }

    /// The opened repository; a failed opening is forgotten so the next use tries again.
    private func repository(_ opening: Task<Repository, any Error>, name: String) async throws -> Repository {
        do {
            return try await opening.value
        } catch {
            if let cached = opened[name], cached.repository == opening { opened[name] = nil }
            throw error
        }
    }

    private func open(_ location: BackupStorageLocation, create: Bool) async throws -> Repository {
        let spec = location.spec
        let config = spec.config ?? [:]
        var environment = ProcessInfo.processInfo.environment
        let store: StoreLocation
        var tls = TLSConfiguration()
        switch spec.provider {
        case "local", "velero.io/local":
            guard let path = config["path"], !path.isEmpty else {
                throw LocationError(
                    description: "backup storage location '\(location.name)': provider local needs config.path")
            }
            var directory = path
            if let prefix = spec.objectStorage?.prefix, !prefix.isEmpty { directory += "/" + prefix }
            store = .local(path: directory)
        case "aws", "velero.io/aws":
            guard let bucket = spec.objectStorage?.bucket, !bucket.isEmpty else {
                throw LocationError(
                    description: "backup storage location '\(location.name)': provider aws needs objectStorage.bucket")
            }
            do {
                let endpoint = try config["s3Url"].map { url throws(ChunkStoreError) in
                    try S3Location.Endpoint(parsing: url)
                }
                let pathStyle = try Self.flag(config, "s3ForcePathStyle", location: location.name)
                tls = try Self.tls(spec, location: location.name)
                store = .s3(
                    S3Location(
                        bucket: bucket, prefix: spec.objectStorage?.prefix ?? "",
                        region: config["region"] ?? environment["AWS_REGION"] ?? "us-east-1", endpoint: endpoint,
                        addressing: pathStyle.map { $0 ? .path : .virtual }, profile: config["profile"]))
            } catch {
                throw LocationError(description: "backup storage location '\(location.name)': \(error)")
            }
            if let file = try await credentialsFile(for: location) {
                environment["AWS_SHARED_CREDENTIALS_FILE"] = file
                environment["AWS_ACCESS_KEY_ID"] = nil
                environment["AWS_SECRET_ACCESS_KEY"] = nil
                environment["AWS_SESSION_TOKEN"] = nil
            }
        default:
            throw LocationError(
                description:
                    "backup storage location '\(location.name)': provider '\(spec.provider)' is not supported (aws or local)"
            )
        }
        // A local store's directories are made and synced, and S3 credentials read from files: the blocking pool.
        let backend = try await BlockingPool.shared.run { [environment, tls] in
            try store.open(
                create: create, environment: environment, client: HTTPClient(configuration: .objectStore(tls: tls)))
        }
        if create && !spec.isReadOnly {
            return try await Repository.openOrCreate(
                backend, config: RepositoryConfig(encryption: .aes256gcm), passwords: passwords,
                directories: StoreLayout.withRecords)
        }
        return try await Repository.open(backend, passwords: passwords)
    }

    /// A boolean in a location's `config`, in the forms Go's `strconv.ParseBool` takes (Velero's AWS plugin reads
    /// them so); nil when absent. Anything else is refused, naming the key: a typo must not quietly mean false.
    static func flag(_ config: [String: String], _ key: String, location: String) throws -> Bool? {
        guard let text = config[key], !text.isEmpty else { return nil }
        guard let value = GoBool.parse(text) else {
            throw LocationError(
                description: "backup storage location '\(location)': config.\(key) '\(text)' is not true or false")
        }
        return value
    }

    /// How the location's S3 endpoint is trusted: `objectStorage.caCert` (a base64 PEM bundle, as Velero takes
    /// it) for a private CA, and `config.insecureSkipTLSVerify` to turn verification off.
    static func tls(_ spec: BackupStorageLocation.Spec, location: String) throws -> TLSConfiguration {
        var tls = TLSConfiguration()
        if let text = spec.objectStorage?.caCert, !text.isEmpty {
            guard let pem = Data(base64Encoded: text, options: .ignoreUnknownCharacters),
                String(decoding: pem, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----")
            else {
                throw LocationError(
                    description:
                        "backup storage location '\(location)': objectStorage.caCert is not a base64-encoded PEM certificate bundle"
                )
            }
            tls.certificateAuthorityPEM = Array(pem)
        }
        if try flag(spec.config ?? [:], "insecureSkipTLSVerify", location: location) == true { tls.verifyPeer = false }
        return tls
    }

    /// The location's credentials Secret (AWS INI format, as `velero install --secret-file` stores it) written to a
    /// private file for the S3 client; nil when the location names none.
    private func credentialsFile(for location: BackupStorageLocation) async throws -> String? {
        guard let selector = location.spec.credential else { return nil }
        let secrets = APIResource(group: "", version: "v1", name: "secrets", kind: "Secret", namespaced: true)
        struct Secret: Decodable { var data: [String: String]? }
        let object = try await client.get(secrets, namespace: namespace, name: selector.name)
        let secret = try JSONDecoder().decode(Secret.self, from: Data(object.json))
        guard let encoded = secret.data?[selector.key], let bytes = Data(base64Encoded: encoded) else {
            throw LocationError(
                description:
                    "backup storage location '\(location.name)': secret \(selector.name) has no key '\(selector.key)'")
        }
        let directory = credentialsDirectory
        let path = "\(directory)/\(location.name)"
        try await BlockingPool.shared.run {
            _ = try FileSystem.makeDirectories(directory, mode: 0o700)
            try Array(bytes).withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0, mode: 0o600) }
        }
        return path
    }
}
