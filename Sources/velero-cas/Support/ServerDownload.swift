import ArgumentParser
import ChunkStore
import Collectors
import Foundation
import HTTPTransport
import KubeClient
import SystemIO
import VeleroAPI

/// Why a file could not be fetched through the server.
enum ServerDownloadError: Error, CustomStringConvertible {
    case timedOut(kind: String, name: String, namespace: String, seconds: Int)
    case refused(kind: String, name: String, reason: String)
    case fetchFailed(url: String, reason: String)

    var description: String {
        switch self {
        case .timedOut(let kind, let name, let namespace, let seconds):
            "no velero-cas server answered the DownloadRequest for \(kind) '\(name)' in namespace \(namespace) within \(seconds)s: is the server running (velero-cas server -n \(namespace))?"
        case .refused(let kind, let name, let reason): "the server has no \(kind) for '\(name)': \(reason)"
        case .fetchFailed(let url, let reason):
            "fetching \(url.prefix { $0 != "?" }) failed: \(reason) (the URL may have expired; try again)"
        }
    }
}

/// Fetches a backup's or restore's file through the server, as Velero's CLI does: a DownloadRequest is created in
/// `namespace`, the server answers with a URL (presigned S3, or file:// for a local location), and the file is
/// fetched from it. Returns the file's bytes, decompressed except for `BackupContents` (a .tar.gz, as stored). Needs
/// only Kubernetes RBAC on DownloadRequests, not the store's credentials.
func fetchThroughServer(
    kind: DownloadRequest.TargetKind, name: String, client: KubeClient, namespace: String = "velero",
    timeout: Duration = .seconds(60)
) async throws -> Data {
    let request = DownloadRequest(target: .init(kind: kind, name: name), namespace: namespace)
    let created = try await client.create(DownloadRequest.resource, namespace: namespace, json: try request.encoded())
    let deadline = ContinuousClock.now + timeout
    var answer: DownloadRequest.Status?
    while ContinuousClock.now < deadline {
        let object = try await client.get(DownloadRequest.resource, namespace: namespace, name: created.name)
        if let status = try DownloadRequest.decode(object.json).status, status.phase == .processed {
            answer = status
            break
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    guard let answer else {
        try? await client.delete(DownloadRequest.resource, namespace: namespace, name: created.name)
        throw ServerDownloadError.timedOut(
            kind: kind.rawValue, name: name, namespace: namespace, seconds: Int(timeout.components.seconds))
    }
    guard let url = answer.downloadURL, !url.isEmpty else {
        throw ServerDownloadError.refused(
            kind: kind.rawValue, name: name, reason: answer.message ?? "the request was processed without a URL")
    }
    let bytes = try await fetch(url)
    if kind == .backupContents { return Data(bytes) }
    do {
        return Data(try Gunzip.decompress(bytes))
    } catch {
        throw ServerDownloadError.fetchFailed(url: url, reason: error.description)
    }
}

/// The bytes behind a download URL: an http(s) GET without credentials, or a file:// read.
private func fetch(_ url: String) async throws -> [UInt8] {
    if url.hasPrefix("file://") {
        let path = String(url.dropFirst("file://".count)).removingPercentEncoding ?? ""
        do {
            return try await BlockingPool.shared.run { try FileSystem.readFile(path) }
        } catch {
            throw ServerDownloadError.fetchFailed(url: url, reason: "\(error)")
        }
    }
    let response: HTTPResponse
    do {
        response = try await HTTPClient().execute(HTTPRequest(method: .get, url: url))
    } catch {
        throw ServerDownloadError.fetchFailed(url: url, reason: "\(error)")
    }
    guard response.status == 200 else {
        throw ServerDownloadError.fetchFailed(url: url, reason: "HTTP \(response.status)")
    }
    return response.body
}

/// How the verbs that read a backup's or restore's file (`logs`, `download`, `describe --details`) reach it:
/// through the velero-cas server when one is detected, as the other verbs do (`--local` or `--store` read the store
/// in this process), or through the server when `--server` says so even if it is not detected (its presence Lease
/// hidden by RBAC).
struct ThroughServerOptions: ParsableArguments {
    @Flag(
        name: .customLong("server"),
        help:
            "Fetch through the velero-cas server in the cluster (a DownloadRequest) even when it is not detected: needs no store credentials."
    )
    var throughServer = false
    @OptionGroup var mode: ModeOptions
    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        if throughServer && mode.local { throw ValidationError("--server and --local cannot be given together") }
    }

    /// The server to fetch through, or nil to read the store in this process. `store` is the `--store` flag.
    func session(store: String?) async throws -> ServerSession? {
        if throughServer {
            if let store {
                throw ValidationError("--server reads through the cluster; --store '\(store)' is for --local")
            }
            return ServerSession(client: try await cluster.client(), namespace: mode.veleroNamespace)
        }
        return try await mode.server(cluster: cluster, store: store)
    }
}

extension ServerSession {
    /// A backup's or restore's file through a DownloadRequest (see `fetchThroughServer`).
    func fetch(_ kind: DownloadRequest.TargetKind, _ name: String) async throws -> Data {
        try await fetchThroughServer(kind: kind, name: name, client: client, namespace: namespace)
    }
}
