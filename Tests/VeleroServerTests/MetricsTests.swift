import Foundation
import KubeClient
import KubeSim
import Testing
import VeleroAPI

@testable import VeleroServer

@Suite("Server metrics and health endpoints", .serialized)
struct MetricsTests {
    func serving(_ harness: ServerHarness) -> VeleroServer.Configuration {
        var configuration = harness.configuration()
        configuration.metricsAddress = EndpointAddress(host: "127.0.0.1", port: 0)
        configuration.metricsRefreshInterval = .milliseconds(200)
        return configuration
    }

    @Test("/metrics after a successful and a failed backup, a refused one and a restore: Velero's names and values")
    func backupOutcomes() async throws {
        try await ServerHarness.with { harness in
            let replica = harness.startReplica(serving(harness))
            defer { replica.task.cancel() }
            let server = replica.server
            try await harness.waitFor("/readyz to answer 200") {
                (try? await Endpoint.get(server, "/readyz"))?.status == 200 ? true : nil
            }
            #expect(try await Endpoint.get(server, "/healthz").status == 200)
            #expect(try await Endpoint.get(server, "/nothing").status == 404)
            let fresh = try await Scrape.of(server)
            for name in ["velero_backup_attempt_total", "velero_backup_success_total", "velero_backup_failure_total"] {
                #expect(fresh.manual(name) == 0, "\(name) starts at 0 for hand-made backups")
            }
            #expect(fresh.manual("velero_backup_last_status") == 1, "Velero starts the last status at 1")

            let (good, bad) = (harness.namespaces[0], harness.namespaces[1])
            try await harness.apply(
                harness.backupManifest("good", namespace: good), to: Backup.resource, namespace: "velero")
            let done = try await harness.finishedBackup("good")
            #expect(done.phase == .completed)
            let stored = try #require(try await harness.storedBackup("good"))
            let afterGood = try await harness.waitFor("the backup to be counted") {
                let scrape = try await Scrape.of(server)
                return scrape.manual("velero_backup_success_total") == 1 ? scrape : nil
            }
            #expect(afterGood.manual("velero_backup_attempt_total") == 1)
            #expect(afterGood.manual("velero_backup_success_total") == 1)
            #expect(afterGood.manual("velero_backup_failure_total") == 0)
            #expect(afterGood.manual("velero_backup_partial_failure_total") == 0)
            #expect(afterGood.manual("velero_backup_last_status") == 1)
            #expect(afterGood.manual("velero_backup_items_total") == Double(stored.itemsBackedUp))
            #expect(stored.itemsBackedUp > 0)
            #expect(afterGood.manual("velero_backup_items_errors") == 0)
            let completion = try #require(done.status?.completionTimestamp)
            #expect(
                afterGood.manual("velero_backup_last_successful_timestamp")
                    == completion.timeIntervalSince1970.rounded(.down))
            #expect(afterGood.manual("velero_backup_duration_seconds_count") == 1)
            let firstBucket = afterGood.samples.first {
                $0.name == "velero_backup_duration_seconds_bucket" && Double($0.labels["le"] ?? "") == 60
            }
            #expect(firstBucket?.value == 1, "a backup of seconds falls in Velero's first bucket (1m)")
            try await harness.waitFor("velero_backup_total to count the Backup") {
                try await Scrape.of(server).value("velero_backup_total") == 1 ? true : nil
            }

            // The API refuses to list the second namespace's config maps: that backup cannot be whole.
            harness.sim.addFault(.error(403, pathPrefix: "/api/v1/namespaces/\(bad)/configmaps"))
            try await harness.apply(
                harness.backupManifest("bad", namespace: bad), to: Backup.resource, namespace: "velero")
            let failed = try await harness.finishedBackup("bad")
            harness.sim.clearFaults()
            #expect(failed.phase == .failed || failed.phase == .partiallyFailed, "\(failed.phase)")
            // The counters move once the run's end is recorded, which may be just after its status is written.
            let afterBad = try await harness.waitFor("the failed backup to be counted") {
                let scrape = try await Scrape.of(server)
                let ended =
                    (scrape.manual("velero_backup_failure_total") ?? 0)
                    + (scrape.manual("velero_backup_partial_failure_total") ?? 0)
                return ended >= 1 ? scrape : nil
            }
            #expect(afterBad.manual("velero_backup_attempt_total") == 2)
            #expect(afterBad.manual("velero_backup_success_total") == 1)
            #expect(afterBad.manual("velero_backup_failure_total") == (failed.phase == .failed ? 1 : 0))
            #expect(
                afterBad.manual("velero_backup_partial_failure_total") == (failed.phase == .partiallyFailed ? 1 : 0))
            #expect(afterBad.manual("velero_backup_last_status") == 0)
            #expect(afterBad.manual("velero_backup_items_errors") == Double(failed.status?.errors ?? -1))
            #expect(
                afterBad.manual("velero_backup_last_successful_timestamp")
                    == completion.timeIntervalSince1970.rounded(.down), "a failure leaves the last success")

            try await harness.apply(
                #"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"refused"},"spec":{"ttl":"soon"}}"#,
                to: Backup.resource, namespace: "velero")
            try await harness.waitFor("the refused backup to be judged") {
                try await harness.backup("refused")?.phase == .failedValidation ? true : nil
            }
            let afterRefused = try await Scrape.of(server)
            #expect(afterRefused.manual("velero_backup_validation_failure_total") == 1)
            #expect(afterRefused.manual("velero_backup_attempt_total") == 2, "a refused backup is no attempt")

            try await harness.apply(
                #"{"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"back"},"spec":{"backupName":"good","existingResourcePolicy":"update"}}"#,
                to: Restore.resource, namespace: "velero")
            let restored = try await harness.finishedRestore("back")
            let afterRestore = try await harness.waitFor("the restore to be counted") {
                let scrape = try await Scrape.of(server)
                let ended = [
                    "velero_restore_success_total", "velero_restore_partial_failure_total",
                    "velero_restore_failed_total",
                ]
                .reduce(0.0) { $0 + (scrape.manual($1) ?? 0) }
                return ended >= 1 ? scrape : nil
            }
            #expect(afterRestore.manual("velero_restore_attempt_total") == 1)
            let outcome = [
                RunPhase.completed: "velero_restore_success_total",
                .partiallyFailed: "velero_restore_partial_failure_total", .failed: "velero_restore_failed_total",
            ]
            for (phase, name) in outcome {
                #expect(afterRestore.manual(name) == (restored.phase == phase ? 1 : 0), "\(name), \(restored.phase)")
            }
            try await harness.waitFor("velero_backup_total and velero_restore_total to count the objects") {
                let scrape = try await Scrape.of(server)
                return scrape.value("velero_backup_total") == 3 && scrape.value("velero_restore_total") == 1
                    ? true : nil
            }
            // Recounting (every 200 ms here) leaves the last backup's figures alone.
            #expect(
                try await Scrape.of(server).manual("velero_backup_items_errors") == Double(failed.status?.errors ?? -1))
        }
    }

    @Test("a backup made by a schedule is counted under its schedule's label; deletions under the backup's")
    func scheduleLabelAndDeletion() async throws {
        try await ServerHarness.with { harness in
            // A paused schedule: its series exist from zero, and it makes no backup of its own.
            try await harness.apply(
                #"{"apiVersion":"velero.io/v1","kind":"Schedule","metadata":{"name":"nightly"},"spec":{"schedule":"@every 1h","paused":true,"template":{}}}"#,
                to: Schedule.resource, namespace: "velero")
            let replica = harness.startReplica(serving(harness))
            defer { replica.task.cancel() }
            try await harness.waitFor("the schedule's series") {
                Scrape(String(decoding: replica.server.metrics.exposition(), as: UTF8.self)).value(
                    "velero_backup_success_total", ["schedule": "nightly"]) == 0 ? true : nil
            }
            // Velero's schedule interval gauge (a paused schedule has one too).
            try await harness.waitFor("the schedule's interval") {
                let scrape = Scrape(String(decoding: replica.server.metrics.exposition(), as: UTF8.self))
                return scrape.value("velero_schedule_expected_interval_seconds", ["schedule": "nightly"]) == 3600
                    ? true : nil
            }
            try await harness.apply(
                #"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"nightly-1","labels":{"velero.io/schedule-name":"nightly"}},"spec":{"includedNamespaces":["\#(harness.namespaces[0])"]}}"#,
                to: Backup.resource, namespace: "velero")
            #expect(try await harness.finishedBackup("nightly-1").phase == .completed)
            // The counters move once the run's end is recorded, which may be just after its status is written.
            var scrape = try await harness.waitFor("the scheduled backup to be counted") {
                let scrape = Scrape(String(decoding: replica.server.metrics.exposition(), as: UTF8.self))
                return scrape.value("velero_backup_success_total", ["schedule": "nightly"]) == 1 ? scrape : nil
            }
            #expect(scrape.manual("velero_backup_success_total") == 0)
            let items = try #require(try await harness.storedBackup("nightly-1")?.itemsBackedUp)
            // The objects are recounted every 200 ms: that leaves the schedule's last figures alone.
            try await Task.sleep(for: .milliseconds(600))
            scrape = Scrape(String(decoding: replica.server.metrics.exposition(), as: UTF8.self))
            #expect(scrape.value("velero_backup_items_total", ["schedule": "nightly"]) == Double(items))
            // The location's directory exists now (the backup made the store): Available, 1.
            try await harness.waitFor("the location's status gauge") {
                let scrape = Scrape(String(decoding: replica.server.metrics.exposition(), as: UTF8.self))
                return scrape.value("velero_backup_location_status_gauge", ["backup_location_name": "default"]) == 1
                    ? true : nil
            }

            let request = DeleteBackupRequest(backupName: "nightly-1", backupUID: nil, namespace: "velero")
            try await harness.client.create(
                DeleteBackupRequest.resource, namespace: "velero", json: try request.encoded())
            try await harness.waitFor("the backup to be deleted") {
                try await harness.backup("nightly-1") == nil ? true : nil
            }
            try await harness.waitFor("the deletion to be counted") {
                scrape = Scrape(String(decoding: replica.server.metrics.exposition(), as: UTF8.self))
                return scrape.value("velero_backup_deletion_success_total", ["schedule": "nightly"]) == 1 ? true : nil
            }
            #expect(scrape.value("velero_backup_deletion_attempt_total", ["schedule": "nightly"]) == 1)
            #expect(scrape.value("velero_backup_deletion_failure_total", ["schedule": "nightly"]) == 0)
        }
    }

    @Test("an address in use stops a server that needs its endpoints (in a pod); otherwise it warns and runs")
    func addressInUse() async throws {
        try await ServerHarness.with { harness in
            let first = harness.startReplica(serving(harness))
            defer { first.task.cancel() }
            let port = try await harness.waitFor("the first server to listen") { first.server.metricsPort }
            var taken = serving(harness)
            taken.metricsAddress = EndpointAddress(host: "127.0.0.1", port: port)
            let refused = harness.startReplica(taken)
            guard case .failure(let error) = await refused.task.result else {
                Issue.record("a server that needs its endpoints ran without them")
                return
            }
            #expect("\(error)".contains("127.0.0.1:\(port)") && "\(error)".contains("--metrics-address"), "\(error)")
            taken.metricsRequired = false
            let tolerant = harness.startReplica(taken)
            try await harness.waitFor("the tolerant server to be ready") {
                tolerant.server.readiness().ready ? true : nil
            }
            #expect(tolerant.server.metricsPort == nil)
            await tolerant.kill()
        }
    }

    @Test("--metrics-address forms: :port, host:port, [v6]:port; others refused naming the flag and value")
    func addresses() throws {
        #expect(try EndpointAddress.parse(":8085") == EndpointAddress(host: "0.0.0.0", port: 8085))
        #expect(try EndpointAddress.parse("127.0.0.1:9") == EndpointAddress(host: "127.0.0.1", port: 9))
        #expect(try EndpointAddress.parse("[::1]:8085") == EndpointAddress(host: "::1", port: 8085))
        for bad in ["8085", ":http", "host:70000", ":"] {
            #expect {
                try EndpointAddress.parse(bad)
            } throws: {
                "\($0)".contains("--metrics-address '\(bad)'")
            }
        }
    }
}
