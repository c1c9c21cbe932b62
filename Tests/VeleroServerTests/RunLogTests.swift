import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Logging
import Operations
import Testing
import VeleroAPI
import VeleroServer

@Suite("Each backup and restore the server runs keeps a log of its own", .serialized)
struct RunLogTests {
    /// The log a DownloadRequest serves for the target, as text.
    static func log(_ harness: ServerHarness, _ kind: DownloadRequest.TargetKind, _ name: String) async throws
        -> String
    {
        let request = try await DownloadRequestTests.download(harness, kind, name)
        #expect(request.status?.message == nil, "\(request.status?.message ?? "")")
        return String(
            decoding: try Gunzip.decompress(try DownloadRequestTests.read(request.status?.downloadURL)), as: UTF8.self)
    }

    @Test("two backups at once: each log holds its own lines (a warning among them), a failed backup has one too")
    func backupLogs() async throws {
        try await ServerHarness.with { harness in
            let (first, second) = (harness.namespaces[0], harness.namespaces[1])
            try await harness.withServer {
                // Run together (two at a time): one names a namespace the cluster does not have.
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"warned"},\
                    "spec":{"includedNamespaces":["\(first)","no-such-namespace"]}}
                    """, to: Backup.resource, namespace: "velero")
                try await harness.apply(
                    harness.backupManifest("quiet", namespace: second), to: Backup.resource, namespace: "velero")
                let warned = try await harness.finishedBackup("warned")
                #expect(warned.phase == .completed)
                #expect(warned.status?.warnings == 1)
                #expect(try await harness.finishedBackup("quiet").phase == .completed)

                let warnedLog = try await Self.log(harness, .backupLog, "warned")
                let warningLine = warnedLog.split(separator: "\n").first { $0.contains("no-such-namespace") }
                #expect(warningLine?.contains("level=warning") == true, "\(warnedLog)")
                #expect(warnedLog.contains("backup warned started"), "\(warnedLog)")
                #expect(warnedLog.contains("msg=\"backup warned Completed"), "\(warnedLog)")
                #expect(!warnedLog.contains("quiet"), "another backup's lines: \(warnedLog)")
                let quietLog = try await Self.log(harness, .backupLog, "quiet")
                #expect(quietLog.contains("backup quiet started") && quietLog.contains("backup quiet Completed"))
                #expect(!quietLog.contains("warned") && !quietLog.contains("no-such-namespace"), "\(quietLog)")

                // Stored compressed beside the record, through the store's encryption.
                let stored = try await harness.repository().store.get(BackupRecord.logKey("warned"))
                #expect(stored.starts(with: [0x1f, 0x8b]))

                // A restore's log is its own too.
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"warned-back"},\
                    "spec":{"backupName":"warned","namespaceMapping":{"\(first)":"warned-copy"}}}
                    """, to: Restore.resource, namespace: "velero")
                #expect(try await harness.finishedRestore("warned-back").phase == .completed)
                let restoreLog = try await Self.log(harness, .restoreLog, "warned-back")
                #expect(restoreLog.contains("restore warned-back started"), "\(restoreLog)")
                #expect(restoreLog.contains("restored tier"), "\(restoreLog)")
                #expect(restoreLog.contains("restore warned-back Completed"), "\(restoreLog)")
                #expect(!restoreLog.contains("msg=\"backup warned"), "the backup's lines: \(restoreLog)")

                // The API refuses to list the config maps of a namespace: the backup fails, and its log says why.
                harness.sim.addFault(.error(403, pathPrefix: "/api/v1/namespaces/\(second)/configmaps"))
                try await harness.apply(
                    harness.backupManifest("refused", namespace: second), to: Backup.resource, namespace: "velero")
                let refused = try await harness.finishedBackup("refused")
                harness.sim.clearFaults()
                #expect(refused.phase == .failed || refused.phase == .partiallyFailed, "\(refused.phase)")
                let record = try #require(try await harness.storedBackup("refused"))
                let error = try #require(record.errors.first)
                let refusedLog = try await Self.log(harness, .backupLog, "refused")
                let errorLine = refusedLog.split(separator: "\n").first { $0.contains("level=error") }
                #expect(errorLine?.contains(RunLog.quoted(error).dropFirst().dropLast()) == true, "\(refusedLog)")
                #expect(refusedLog.contains("backup refused \(record.phase.rawValue)"), "\(refusedLog)")
            }
        }
    }

    @Test("a run's log keeps its beginning and its end within the bound, and only the lines of its own tasks")
    func boundAndScope() async throws {
        let log = RunLog(limit: 1000)
        let logger = Logger(label: "test.run-log")
        RunLogging.bootstrap()
        await RunLog.$current.withValue(log) {
            for index in 0..<500 { log.append("line \(index)") }
            // A child task logs into the same run.
            await Task { Logger(label: "test.child").warning("from a child \"quoted\"\nsecond line") }.value
        }
        logger.info("outside any run")
        let text = log.text
        #expect(text.utf8.count <= 1100, "\(text.utf8.count) bytes")
        #expect(text.hasPrefix("line 0\nline 1\n"))
        #expect(text.contains("lines left out"))
        let lines = text.split(separator: "\n")
        let child = lines.last { $0.contains("from a child") }
        #expect(child?.contains(#"msg="from a child \"quoted\"\nsecond line""#) == true, "\(lines.suffix(3))")
        #expect(lines.last?.contains("level=warning") == true)
        #expect(lines.last?.contains("logSource=\"test.child\"") == true)
        #expect(lines.contains("line 499"))
        #expect(!text.contains("outside any run"))
    }
}
