import Collectors
import Foundation
import KubeClient
import SystemIO
import Testing
import VeleroAPI
import VeleroServer

@Suite("DownloadRequest and ServerStatusRequest", .serialized)
struct DownloadRequestTests {
    /// Creates a DownloadRequest and waits until the server has processed it.
    static func download(_ harness: ServerHarness, _ kind: DownloadRequest.TargetKind, _ name: String) async throws
        -> DownloadRequest
    {
        let created = try await harness.create(
            DownloadRequest(target: .init(kind: kind, name: name), namespace: "velero"))
        return try await harness.waitFor("\(kind.rawValue) \(name) to be processed") {
            let object = try await harness.client.get(DownloadRequest.resource, namespace: "velero", name: created)
            let request = try DownloadRequest.decode(object.json)
            return request.phase == .processed ? request : nil
        }
    }

    /// The file behind a file:// URL.
    static func read(_ url: String?) throws -> [UInt8] {
        let url = try #require(url)
        #expect(url.hasPrefix("file://"))
        return try FileSystem.readFile(String(url.dropFirst("file://".count)).removingPercentEncoding ?? "")
    }

    @Test("a local location's files are served through file:// URLs that expire with their requests")
    func localDownloads() async throws {
        try await ServerHarness.with { harness in
            let namespace = harness.namespaces[0]
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("dl", namespace: namespace), to: Backup.resource, namespace: "velero")
                let backup = try await harness.finishedBackup("dl")
                #expect(backup.phase == .completed)
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"dl-back"},\
                    "spec":{"backupName":"dl","namespaceMapping":{"\(namespace)":"dl-copy"}}}
                    """, to: Restore.resource, namespace: "velero")
                #expect(try await harness.finishedRestore("dl-back").phase == .completed)
                var configMaps: [String] = []
                try await harness.client.listAll(ServerHarness.configMaps, namespace: namespace) {
                    configMaps += $0.map(\.name)
                }

                let before = Date()
                let log = try await Self.download(harness, .backupLog, "dl")
                let logText = String(
                    decoding: try Gunzip.decompress(try Self.read(log.status?.downloadURL)), as: UTF8.self)
                #expect(logText.contains("backup dl"), "\(logText)")
                #expect(logText.contains("Completed"))
                let expiration = try #require(log.status?.expiration)
                #expect(abs(expiration.timeIntervalSince(before) - 600) < 5)

                let contents = try await Self.download(harness, .backupContents, "dl")
                let tar = String(
                    decoding: try Gunzip.decompress(try Self.read(contents.status?.downloadURL)), as: UTF8.self)
                #expect(tar.contains("metadata/version"))
                for name in configMaps {
                    #expect(tar.contains("resources/configmaps/namespaces/\(namespace)/\(name).json"), "\(name)")
                }

                let list = try await Self.download(harness, .backupResourceList, "dl")
                let listed = try JSONDecoder().decode(
                    [String: [String]].self, from: Data(try Gunzip.decompress(try Self.read(list.status?.downloadURL))))
                #expect(Set(listed["v1/ConfigMap"] ?? []) == Set(configMaps.map { "\(namespace)/\($0)" }))

                let restoreLog = try await Self.download(harness, .restoreLog, "dl-back")
                let restoreText = String(
                    decoding: try Gunzip.decompress(try Self.read(restoreLog.status?.downloadURL)), as: UTF8.self)
                #expect(restoreText.contains("dl-back") && restoreText.contains("Completed"), "\(restoreText)")
                let results = try await Self.download(harness, .restoreResults, "dl-back")
                let resultsJSON = try JSONSerialization.jsonObject(
                    with: Data(try Gunzip.decompress(try Self.read(results.status?.downloadURL))))
                #expect((resultsJSON as? [String: Any])?["errors"] != nil)

                // What is not there gets no URL and says why.
                let missing = try await Self.download(harness, .backupLog, "nope")
                #expect(missing.status?.downloadURL == nil)
                #expect(missing.status?.message?.contains("nope") == true)

                // A request that does not decode is answered, naming the field, and the server keeps working.
                try await harness.apply(
                    #"{"apiVersion":"velero.io/v1","kind":"DownloadRequest","metadata":{"name":"bad"},"spec":{"target":{"kind":"BackupLog"}}}"#,
                    to: DownloadRequest.resource, namespace: "velero")
                let bad = try await harness.waitFor("the malformed request to be answered") { () -> String? in
                    let object = try await harness.client.get(
                        DownloadRequest.resource, namespace: "velero", name: "bad")
                    let text = String(decoding: object.json, as: UTF8.self)
                    return text.contains("Processed") ? text : nil
                }
                #expect(bad.contains("malformed") && bad.contains("target.name"), "\(bad)")
                #expect(!bad.contains("downloadURL"))

                // Staged files are private and unencrypted; past the expiration requests and files are gone.
                let staged = String((log.status?.downloadURL ?? "").dropFirst("file://".count))
                #expect(try FileSystem.status(staged).mode & 0o077 == 0)
                harness.clockOffset.withLock { $0 = 11 * 60 }
                try await harness.waitFor("the expired requests to be deleted") { () -> Bool? in
                    var left = 0
                    try await harness.client.listAll(DownloadRequest.resource, namespace: "velero") { left += $0.count }
                    return left == 0 ? true : nil
                }
                try await harness.waitFor("the staged files to be deleted") {
                    (try? FileSystem.statusIfExists(staged)) == .some(nil) ? true : nil
                }
            }
        }
    }

    @Test("velero-cas backup logs / restore logs / backup download --server go through a DownloadRequest")
    func cliThroughServer() async throws {
        try await ServerHarness.with { harness in
            let namespace = harness.namespaces[0]
            let kubeconfig = harness.temp.sub("kubeconfig")
            try harness.sim.writeKubeconfig(path: kubeconfig)
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("cli", namespace: namespace), to: Backup.resource, namespace: "velero")
                #expect(try await harness.finishedBackup("cli").phase == .completed)
                // No store options and no password: only the cluster.
                let environment = ["HOME": harness.temp.sub("home"), "VELERO_CAS_PASSWORD": ""]
                let logs = try await ServerProcess.run(
                    ["backup", "logs", "cli", "--server", "--kubeconfig", kubeconfig], environment: environment)
                #expect(logs.status == 0, "\(logs.errors)")
                #expect(logs.output.contains("backup cli"), "\(logs.output)")

                let tarball = harness.temp.sub("cli.tar.gz")
                let download = try await ServerProcess.run(
                    ["backup", "download", "cli", "--server", "--kubeconfig", kubeconfig, "-o", tarball],
                    environment: environment)
                #expect(download.status == 0, "\(download.errors)")
                let tar = String(decoding: try Gunzip.decompress(try FileSystem.readFile(tarball)), as: UTF8.self)
                #expect(tar.contains("resources/configmaps/namespaces/\(namespace)/"))

                let missing = try await ServerProcess.run(
                    ["restore", "logs", "never", "--server", "--kubeconfig", kubeconfig], environment: environment)
                #expect(missing.status != 0)
                #expect(missing.errors.contains("never"), "\(missing.errors)")
            }
        }
    }

    @Test("a ServerStatusRequest gets the server's version and plugins, and is deleted a minute later")
    func serverStatus() async throws {
        try await ServerHarness.with { harness in
            try await harness.withServer {
                let name = try await harness.create(ServerStatusRequest(namespace: "velero"))
                let processed = try await harness.waitFor("the status request to be processed") {
                    () -> ServerStatusRequest? in
                    let object = try await harness.client.get(
                        ServerStatusRequest.resource, namespace: "velero", name: name)
                    let request = try ServerStatusRequest.decode(object.json)
                    return request.phase == .processed ? request : nil
                }
                #expect(processed.status?.serverVersion == "test-version")
                #expect(processed.status?.processedTimestamp != nil)
                let plugins = processed.status?.plugins ?? []
                #expect(plugins.contains(.init(name: "velero.io/aws", kind: "ObjectStore")))
                // Written by hand without a spec (it has no fields): answered too.
                try await harness.apply(
                    #"{"apiVersion":"velero.io/v1","kind":"ServerStatusRequest","metadata":{"name":"bare"}}"#,
                    to: ServerStatusRequest.resource, namespace: "velero")
                try await harness.waitFor("the bare request to be processed") { () -> Bool? in
                    let object = try await harness.client.get(
                        ServerStatusRequest.resource, namespace: "velero", name: "bare")
                    return try ServerStatusRequest.decode(object.json).status?.serverVersion == "test-version"
                        ? true : nil
                }
                harness.clockOffset.withLock { $0 = 61 }
                try await harness.waitFor("the processed request to be deleted") { () -> Bool? in
                    do {
                        _ = try await harness.client.get(ServerStatusRequest.resource, namespace: "velero", name: name)
                        return nil
                    } catch let error as KubeAPIError where error.isNotFound {
                        return true
                    }
                }
            }
        }
    }
}
