import ChunkStore
import Foundation
import HTTPTransport
import KubeClient
import VeleroAPI

/// DownloadRequests, as Velero's download request controller handles them: a New request is answered with a URL
/// that serves the file until `status.expiration` (`downloadURLTTL`, Velero's 10 minutes) and Processed; expired
/// requests are deleted (looked for every `downloadSweepInterval`, Velero's minute).
///
/// Velero presigns a GET of a file its store already holds. velero-cas stores chunks, encrypted, so the file is
/// made first (decrypted, in Velero's format: see `DownloadContent`) and staged beside the store, unencrypted, under
/// `downloads/<request>/`, where it lives only until the request expires:
/// - an S3 location (provider aws) answers with a SigV4 presigned GET of the staged object, which any HTTP client
///   fetches without credentials, as Velero's does;
/// - a local location (provider local) is a directory on the server's file system, so the URL is `file://` to the
///   staged file: it works where the client sees that directory (the server run outside a cluster, the demo, the
///   tests). Serving it over HTTP from the server would need a route from the client into the pod, which
///   `kubectl port-forward` gives no better than a mounted volume does; S3 is the location for remote users.
struct DownloadController: Sendable {
    static let stagingPrefix = "downloads/"

    let server: VeleroServer
    let requests: OneShotRequests<DownloadRequest>

    init(server: VeleroServer) {
        self.server = server
        requests = OneShotRequests(server: server)
    }

    var loop: ControllerLoop { requests.loop(workers: 2) { try await process($0) } }

    func process(_ name: String) async throws {
        let request: DownloadRequest
        switch try await requests.access.fetch(name) {
        case .missing: return
        case .malformed(let object, let reason):
            guard LoosePhase.of(object).isEmpty || LoosePhase.of(object) == "New" else { return }
            var status = DownloadRequest.Status(phase: .processed)
            status.message = "the request is malformed: \(reason)"
            status.expiration = server.configuration.now().addingTimeInterval(
                seconds(server.configuration.downloadURLTTL))
            try await requests.access.patchStatus(
                name, resourceVersion: object.metadata.resourceVersion,
                status: Array(try Velero.encoder().encode(status)), as: DownloadRequest.self)
            return
        case .object(let object): request = object
        }
        guard request.phase == .new else { return }
        let ttl = seconds(server.configuration.downloadURLTTL)
        let expiration = server.configuration.now().addingTimeInterval(ttl)
        var status = DownloadRequest.Status(phase: .processed)
        status.expiration = expiration
        do {
            let location = try await server.storage.resolve(try await locationName(request.spec.target), create: false)
            let file = try await DownloadContent.make(
                request.spec.target, repository: location.repository,
                scratch: server.configuration.credentialsDirectory + "/downloads")
            status.downloadURL = try await stage(file, request: name, in: location.repository, ttl: Int(ttl))
        } catch let error as DownloadUnavailable {
            status.message = error.description
        } catch {
            // The location cannot be opened, the store fails: the client is told (and may ask again) rather
            // than left waiting.
            if Task.isCancelled { throw error }
            status.message = "\(error)"
        }
        guard try await requests.answer(name, status) else { return }
        server.logger.info(
            "download request \(name) for \(request.spec.target.kind.rawValue) \(request.spec.target.name): \(status.message ?? "processed")"
        )
    }

    /// The location holding the target: its Backup's (a Restore's backup's), else the default one (a backup the
    /// CLI made has no object).
    private func locationName(_ target: DownloadRequest.Target) async throws -> String? {
        let namespace = server.configuration.namespace
        var backupName = target.name
        if target.kind.isRestore {
            let restores = ObjectAccess<Restore>(client: server.client, namespace: namespace)
            guard let restore = try await restores.get(target.name) else { return nil }
            backupName = restore.spec.backupName ?? ""
        }
        return try await ObjectAccess<Backup>(client: server.client, namespace: namespace).get(backupName)?.spec
            .storageLocation
    }

    /// Puts the file beside the store, unencrypted, and returns the URL that serves it.
    private func stage(_ file: DownloadFile, request: String, in repository: Repository, ttl: Int) async throws
        -> String
    {
        let raw = Self.raw(repository.store)
        let key = "\(Self.stagingPrefix)\(request)/\(file.name)"
        switch raw {
        case let s3 as S3ObjectStore:
            try await s3.put(key, file.bytes)
            return try s3.presignedGetURL(key, expires: ttl)
        case let local as LocalDirectoryStore:
            try await local.put(key, file.bytes)
            return "file://" + SigV4.encodePath("\(local.root)/\(key)")
        default:
            throw DownloadUnavailable(description: "the store \(raw.location) cannot serve downloads")
        }
    }

    /// The store under the encryption layer: staged files are for clients without the store's password.
    static func raw(_ store: any ObjectStore) -> any ObjectStore {
        (store as? EncryptedObjectStore)?.base ?? store
    }

    /// Every `downloadSweepInterval`: expired requests are deleted (a malformed one, answered with a message,
    /// too), and so are staged files older than the URL lifetime (their request deleted by hand).
    func expireLoop() async {
        await requests.expireLoop("download requests", expiry: \.expiration) { try await sweepStaged() }
    }

    private func sweepStaged() async throws {
        let cutoff = server.configuration.now().addingTimeInterval(-seconds(server.configuration.downloadURLTTL))
        for location in try await ObjectAccess<BackupStorageLocation>(
            client: server.client, namespace: server.configuration.namespace
        ).list() where location.status?.phase != .unavailable {
            guard let resolved = try? await server.storage.resolve(location.name, create: false) else { continue }
            let raw = Self.raw(resolved.repository.store)
            for object in try await raw.listAll(prefix: Self.stagingPrefix) {
                guard let modified = object.modified, modified < cutoff else { continue }
                try await raw.delete(object.key)
            }
        }
    }

    private func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
