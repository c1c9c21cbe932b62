import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Restorer
import TestSupport
import Testing
import VeleroAPI
import VeleroServer

@Suite("velero-cas server against a served cluster", .serialized)
struct ServerTests {
    @Test("a Backup created through the API reaches Completed, its status filled in, its data in the store")
    func backupCompletes() async throws {
        try await ServerHarness.with { harness in
            let namespace = try #require(harness.namespaces.first)
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("nightly", namespace: namespace), to: Backup.resource, namespace: "velero")
                let backup = try await harness.finishedBackup("nightly")
                let status = try #require(backup.status)
                #expect(backup.phase == .completed, "\(status)")
                let start = try #require(status.startTimestamp)
                let completion = try #require(status.completionTimestamp)
                let expiration = try #require(status.expiration)
                #expect(start <= completion)
                #expect(abs(expiration.timeIntervalSince(start) - 24 * 3600) < 2)
                let items = try #require(status.progress?.itemsBackedUp)
                #expect(items > 0)
                #expect(status.progress?.totalItems == items)
                #expect((status.errors ?? 0) == 0)
                #expect(status.validationErrors == nil)

                let record = try #require(try await harness.storedBackup("nightly"))
                #expect(record.phase == .completed)
                #expect(record.itemsBackedUp == items)
                #expect(record.filter.includeNamespaces == [namespace])
                #expect(record.labels["team"] == "a")
                #expect(record.storageLocation == "default")
            }
        }
    }

    /// Specs Velero refuses, each with what its validation error must mention.
    static let invalidSpecs: [(name: String, spec: String, mentions: String)] = [
        ("bad-ttl", #""ttl":"soon""#, "ttl"),
        // Longer than Go's int64 nanoseconds: converting it to whole seconds trapped and took the server down.
        ("huge-ttl", #""ttl":"3000000000000000h""#, "ttl"),
        (
            "both-selectors",
            #""labelSelector":{"matchLabels":{"a":"b"}},"orLabelSelectors":[{"matchLabels":{"c":"d"}}]"#,
            "orLabelSelectors"
        ),
        ("star-excluded", #""excludedNamespaces":["*"]"#, "*"),
        ("bad-operator", #""labelSelector":{"matchExpressions":[{"key":"a","operator":"Near"}]}"#, "Near"),
        ("no-location", #""storageLocation":"nowhere""#, "nowhere"),
        ("malformed", #""includedNamespaces":"not-a-list""#, "includedNamespaces"),
        (
            "mixed-filters", #""includedResources":["pods"],"includedNamespaceScopedResources":["configmaps"]"#,
            "combined"
        ),
    ]

    @Test("invalid and malformed Backups become FailedValidation with the reasons, and the server keeps working")
    func invalidBackups() async throws {
        try await ServerHarness.with { harness in
            try await harness.withServer {
                for item in Self.invalidSpecs {
                    try await harness.apply(
                        #"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"\#(item.name)"},"spec":{\#(item.spec)}}"#,
                        to: Backup.resource, namespace: "velero")
                }
                for item in Self.invalidSpecs {
                    let object = try await harness.waitFor("\(item.name) to be judged") { () -> KubeObject? in
                        let object = try await harness.client.get(Backup.resource, namespace: "velero", name: item.name)
                        return String(decoding: object.json, as: UTF8.self).contains("FailedValidation") ? object : nil
                    }
                    let text = String(decoding: object.json, as: UTF8.self)
                    #expect(text.contains("validationErrors"), "\(item.name): \(text)")
                    #expect(text.contains(item.mentions), "\(item.name): \(text)")
                    #expect(try await harness.storedBackup(item.name) == nil, "\(item.name) wrote to the store")
                }
                // Still working: a valid backup after all of them completes.
                try await harness.apply(
                    harness.backupManifest("after", namespace: harness.namespaces[0]), to: Backup.resource,
                    namespace: "velero")
                #expect(try await harness.finishedBackup("after").phase == .completed)
            }
        }
    }

    @Test("a Restore restores a backup into the cluster, under a mapped namespace")
    func restoreRestores() async throws {
        try await ServerHarness.with { harness in
            let namespace = harness.namespaces[0]
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("source", namespace: namespace), to: Backup.resource, namespace: "velero")
                #expect(try await harness.finishedBackup("source").phase == .completed)
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"copy"},"spec":{"backupName":"source",\
                    "namespaceMapping":{"\(namespace)":"restored"}}}
                    """, to: Restore.resource, namespace: "velero")
                let restore = try await harness.finishedRestore("copy")
                let status = try #require(restore.status)
                #expect(restore.phase == .completed, "\(status)")
                #expect(status.startTimestamp != nil && status.completionTimestamp != nil)
                #expect((status.progress?.itemsRestored ?? 0) > 0)
                var original: [String] = []
                var copied: [String] = []
                let configMaps = ServerHarness.configMaps
                try await harness.client.listAll(configMaps, namespace: namespace) { original += $0.map(\.name) }
                try await harness.client.listAll(configMaps, namespace: "restored") { copied += $0.map(\.name) }
                #expect(!original.isEmpty)
                #expect(Set(original).isSubset(of: Set(copied)))
                // The record is in the store beside the backup's, as the CLI writes it.
                let record = try await harness.repository().record(
                    RestoreRecord.self, key: RestoreRecord.key("copy"))
                #expect(record?.backup == "source")

                try await harness.apply(
                    #"{"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"from-nothing"},"spec":{"backupName":"missing"}}"#,
                    to: Restore.resource, namespace: "velero")
                let refused = try await harness.finishedRestore("from-nothing")
                #expect(refused.phase == .failedValidation)
                #expect(refused.status?.validationErrors?.first?.contains("missing") == true)
            }
        }
    }

    @Test("a DeleteBackupRequest deletes the backup's data, log and object, and its restores, and ends Processed")
    func deleteBackupRequest() async throws {
        try await ServerHarness.with { harness in
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("doomed", namespace: harness.namespaces[0]), to: Backup.resource,
                    namespace: "velero")
                #expect(try await harness.finishedBackup("doomed").phase == .completed)
                #expect(try await harness.storedBackup("doomed") != nil)
                // A restore of it goes with it: the Restore object, its record and both logs.
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"doomed-back"},\
                    "spec":{"backupName":"doomed","namespaceMapping":{"\(harness.namespaces[0])":"doomed-copy"}}}
                    """, to: Restore.resource, namespace: "velero")
                #expect(try await harness.finishedRestore("doomed-back").phase == .completed)
                let store = try await harness.repository().store
                for key in [
                    RestoreRecord.key("doomed-back"), RestoreRecord.logKey("doomed-back"),
                    BackupRecord.logKey("doomed"),
                ] {
                    #expect(try await store.size(of: key) != nil, "\(key)")
                }
                let chunksBefore = try await harness.repository().store.listAll(prefix: "chunks/").count
                let request = DeleteBackupRequest(backupName: "doomed", backupUID: nil, namespace: "velero")
                let created = try await harness.client.create(
                    DeleteBackupRequest.resource, namespace: "velero", json: try request.encoded())
                let processed = try await harness.waitFor("the request to be processed") { () -> DeleteBackupRequest? in
                    let object = try await harness.client.get(
                        DeleteBackupRequest.resource, namespace: "velero", name: created.name)
                    let request = try DeleteBackupRequest.decode(object.json)
                    return request.phase == .processed ? request : nil
                }
                #expect(processed.status?.errors == nil)
                #expect(try await harness.backup("doomed") == nil)
                #expect(try await harness.storedBackup("doomed") == nil)
                for key in [
                    RestoreRecord.key("doomed-back"), RestoreRecord.logKey("doomed-back"),
                    BackupRecord.logKey("doomed"),
                ] {
                    #expect(try await store.size(of: key) == nil, "\(key)")
                }
                do {
                    _ = try await harness.restore("doomed-back")
                    Issue.record("the Restore object of the deleted backup is still there")
                } catch let error as KubeAPIError where error.isNotFound {}
                let chunksAfter = try await harness.repository().store.listAll(prefix: "chunks/").count
                #expect(chunksAfter < chunksBefore || chunksBefore == 0)
            }
        }
    }

    @Test("backups past their TTL are deleted by the garbage-collection loop (injected clock)")
    func expiry() async throws {
        // Longer than a label value may be: the deletion request's label is shortened as Velero shortens it.
        let short = "short-" + String(repeating: "x", count: 64)
        try await ServerHarness.with { harness in
            try await harness.withServer(harness.configuration(gcFrequency: .milliseconds(200))) {
                try await harness.apply(
                    harness.backupManifest(short, namespace: harness.namespaces[0], extraSpec: ""),
                    to: Backup.resource, namespace: "velero")
                try await harness.apply(
                    harness.backupManifest("long", namespace: harness.namespaces[1]).replacingOccurrences(
                        of: "24h0m0s", with: "72h"), to: Backup.resource, namespace: "velero")
                #expect(try await harness.finishedBackup(short).phase == .completed)
                #expect(try await harness.finishedBackup("long").phase == .completed)
                harness.clockOffset.withLock { $0 = 48 * 3600 }
                try await harness.waitFor("the expired backup to go") {
                    try await harness.backup(short) == nil ? true : nil
                }
                #expect(try await harness.storedBackup(short) == nil)
                #expect(try await harness.backup("long")?.phase == .completed)
                #expect(try await harness.storedBackup("long") != nil)
            }
        }
    }

    @Test("work a stopped server left InProgress is marked Failed when a server starts again")
    func restartAfterStop() async throws {
        try await ServerHarness.with { harness in
            // As a killed server leaves them: InProgress, nobody running them.
            try await harness.apply(
                harness.backupManifest("orphan", namespace: harness.namespaces[0]), to: Backup.resource,
                namespace: "velero")
            let object = try await harness.client.get(Backup.resource, namespace: "velero", name: "orphan")
            _ = try await harness.client.send(
                .patch, Backup.resource.path(namespace: "velero", name: "orphan") + "/status",
                body: Array(
                    #"{"metadata":{"resourceVersion":"\#(object.metadata.resourceVersion ?? "")"},"status":{"phase":"InProgress"}}"#
                        .utf8), contentType: "application/merge-patch+json")

            // A backup slow enough to be stopped mid-way: config maps are listed slowly.
            // (listed across namespaces or in the one the backup selects).
            harness.sim.addFault(.latency(.seconds(2), pathPrefix: "/api/v1/configmaps"))
            harness.sim.addFault(
                .latency(.seconds(2), pathPrefix: "/api/v1/namespaces/\(harness.namespaces[1])/configmaps"))
            try await harness.withServer {
                let orphan = try await harness.finishedBackup("orphan")
                #expect(orphan.phase == .failed)
                #expect(orphan.status?.failureReason?.contains("stopped") == true)
                try await harness.apply(
                    harness.backupManifest("interrupted", namespace: harness.namespaces[1]), to: Backup.resource,
                    namespace: "velero")
                try await harness.waitFor("the backup to start") {
                    try await harness.backup("interrupted")?.phase == .inProgress ? true : nil
                }
            }
            harness.sim.clearFaults()
            // Whatever the stopped server managed to write, a new one leaves nothing InProgress.
            try await harness.withServer {
                let interrupted = try await harness.finishedBackup("interrupted")
                #expect(interrupted.phase == .failed)
            }
        }
    }
}

@Suite(
    "velero-cas server driven by kubectl",
    .enabled(if: Kubectl.isInstalled, "kubectl is not installed: the kubectl tests are skipped"))
struct ServerKubectlTests {
    @Test("Backup and Restore manifests applied with kubectl are processed; every status field is in the schema")
    func kubectlApply() async throws {
        try await ServerHarness.with { harness in
            let kubectl = try Kubectl(writeKubeconfig: { try harness.sim.writeKubeconfig(path: $0) })
            defer { kubectl.remove() }
            let namespace = harness.namespaces[0]
            // A manifest in the form Velero's documentation gives, hooks and all (accepted, not run yet).
            let manifest = try kubectl.file(
                "backup.yaml",
                """
                apiVersion: velero.io/v1
                kind: Backup
                metadata:
                  name: from-kubectl
                  namespace: velero
                spec:
                  csiSnapshotTimeout: 10m
                  includedNamespaces:
                  - \(namespace)
                  excludedNamespaces: []
                  includedResources:
                  - '*'
                  excludedResources:
                  - events
                  includeClusterResources: null
                  labelSelector:
                    matchLabels: {}
                  snapshotVolumes: true
                  storageLocation: default
                  volumeSnapshotLocations: []
                  ttl: 24h0m0s
                  defaultVolumesToFsBackup: false
                  hooks:
                    resources:
                    - name: freeze
                      includedNamespaces:
                      - '*'
                      pre:
                      - exec:
                          container: app
                          command: ["/bin/true"]
                          onError: Continue  # hooks run: the generated pods have no "app" container
                          timeout: 10s
                """)
            try await harness.withServer {
                let applied = try await kubectl.run(["apply", "--validate=false", "-f", manifest])
                #expect(applied.status == 0, "\(applied.combined)")
                let backup = try await harness.finishedBackup("from-kubectl")
                #expect(backup.phase == .completed, "\(String(describing: backup.status))")
                let phase = try await kubectl.run([
                    "get", "backups.velero.io", "from-kubectl", "-n", "velero", "-o", "jsonpath={.status.phase}",
                ])
                #expect(phase.output == "Completed", "\(phase.status) \(phase.combined)")

                let restoreFile = try kubectl.file(
                    "restore.yaml",
                    """
                    apiVersion: velero.io/v1
                    kind: Restore
                    metadata:
                      name: back
                      namespace: velero
                    spec:
                      backupName: from-kubectl
                      namespaceMapping:
                        \(namespace): \(namespace)-copy
                      restorePVs: true
                      existingResourcePolicy: none
                    """)
                let restoreApplied = try await kubectl.run(["apply", "--validate=false", "-f", restoreFile])
                #expect(restoreApplied.status == 0, "\(restoreApplied.combined)")
                #expect(try await harness.finishedRestore("back").phase == .completed)

                // A real API server prunes what the schema does not declare: every status field written must be.
                for (definition, resource, name) in [
                    (VeleroCRDs.backup, Backup.resource, "from-kubectl"),
                    (VeleroCRDs.restore, Restore.resource, "back"),
                ] {
                    let object = try await harness.client.get(resource, namespace: "velero", name: name)
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(object.json)) as? [String: Any])
                    let status = try #require(json["status"])
                    let schema = try SchemaWalk.root(definition)
                    let statusSchema = try #require(
                        (schema["properties"] as? [String: Any])?["status"] as? [String: Any])
                    #expect(SchemaWalk.undeclared(status, statusSchema, path: "status").isEmpty, "\(name)")
                }
            }
        }
    }
}
