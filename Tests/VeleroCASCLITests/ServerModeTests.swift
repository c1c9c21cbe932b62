import Foundation
import KubeClient
import KubeSim
import TestSupport
import Testing
import VeleroAPI

/// The CLI through a running `velero-cas server` (a child process against kube-sim over HTTP): the verbs create
/// and read Velero objects, and the server does the work.
@Suite("velero-cas CLI through the server")
struct ServerModeTests {
    @Test("backup create --wait, get, describe, restore create --wait, backup delete: through Velero objects")
    func backupAndRestore() async throws {
        try await ServerProcess.with { server in
            let namespace = try #require(server.sim.generated?.namespaceNames.first)
            let created = try await server.cli([
                "backup", "create", "b1", "--include-namespaces", namespace, "--labels", "team=a", "--wait",
            ])
            #expect(created.status == 0, "\(created.output) \(created.errors)")
            #expect(created.output.contains("Backup request \"b1\" submitted successfully."))
            #expect(created.output.contains("Backup completed with status: Completed."), "\(created.output)")
            // The object the CLI made, as the API server holds it, and the server's outcome on it.
            let backup = try #require(try await server.object("b1", as: Backup.self))
            #expect(backup.spec.includedNamespaces == [namespace])
            #expect(backup.metadata.labels?["team"] == "a")
            #expect(backup.phase == .completed)
            #expect((backup.status?.progress?.itemsBackedUp ?? 0) >= 10)
            // The backup is in the store the server wrote: the in-process view of that store sees it.
            let stored = try await server.cli(["backup", "get", "b1", "--local", "--store", server.store, "-o", "json"])
            #expect(stored.status == 0, "\(stored.errors)")
            let records = try JSONSerialization.jsonObject(with: Data(stored.output.utf8)) as? [[String: Any]]
            #expect(records?.first?["phase"] as? String == "Completed")

            let version = try await server.cli(["version"])
            #expect(version.output.contains("velero-cas server running in namespace velero"), "\(version.output)")
            let table = try await server.cli(["backup", "get"])
            #expect(table.status == 0, "\(table.errors)")
            #expect(table.output.contains("STORAGE LOCATION"))
            let row = table.output.split(separator: "\n").first { $0.hasPrefix("b1 ") }
            #expect(row?.contains("Completed") == true, "\(table.output)")
            let listed = try await server.cli(["get", "backups", "-l", "team=a", "-o", "json"])
            let list = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
            #expect(list?["kind"] as? String == "List")
            #expect((list?["items"] as? [[String: Any]])?.count == 1)
            let described = try await server.cli(["backup", "describe", "b1"])
            #expect(described.output.contains("Phase:        Completed"), "\(described.output)")
            #expect(described.output.contains("Namespaces:   included \(namespace)"))

            // The first watches of restores fail (500): --wait reads the object again and watches on.
            server.sim.addFault(
                .error(500, count: 2, pathPrefix: "/apis/velero.io/v1/namespaces/velero/restores", verb: "watch"))
            let restored = try await server.cli([
                "restore", "create", "r1", "--from-backup", "b1", "--namespace-mappings", "\(namespace):moved",
                "--wait",
            ])
            #expect(restored.status == 0, "\(restored.output) \(restored.errors)")
            #expect(restored.output.contains("Restore completed with status: Completed."), "\(restored.output)")
            #expect(server.sim.objectCount(namespace: "moved") > 0)
            let restores = try await server.cli(["restore", "get"])
            #expect(restores.output.contains("r1") && restores.output.contains("b1"), "\(restores.output)")
            #expect(try await server.object("r1", as: Restore.self)?.spec.namespaceMapping == [namespace: "moved"])

            let refused = try await server.cli(["backup", "delete", "b1"])
            #expect(refused.status != 0 && refused.errors.contains("--confirm"))
            let deleted = try await server.cli(["backup", "delete", "b1", "--confirm"])
            #expect(deleted.status == 0, "\(deleted.errors)")
            #expect(deleted.output.contains("Request to delete backup \"b1\" submitted successfully."))
            let requests = try await server.client.list(DeleteBackupRequest.resource, namespace: "velero")
            #expect(requests.items.contains { $0.metadata.labels?[Velero.backupNameLabel] == "b1" })
            try await server.waitFor("backup b1 to be deleted") {
                try await server.object("b1", as: Backup.self) == nil ? true : nil
            }
            let missing = try await server.cli(["backup", "describe", "b1"])
            #expect(missing.status != 0 && missing.errors.contains("backup 'b1' not found in namespace 'velero'"))
        }
    }

    @Test("schedule create|get|describe|pause|unpause|delete and backup create --from-schedule")
    func schedules() async throws {
        try await ServerProcess.with { server in
            let namespace = try #require(server.sim.generated?.namespaceNames.last)
            let bad = try await server.cli(["schedule", "create", "x", "--schedule", "61 * * * *"])
            #expect(bad.status != 0 && bad.errors.contains("--schedule '61 * * * *'"), "\(bad.errors)")
            let created = try await server.cli([
                "schedule", "create", "nightly", "--schedule", "@every 1h", "--include-namespaces", namespace,
                "--ttl", "24h", "--paused", "--use-owner-references-in-backup",
            ])
            #expect(created.status == 0, "\(created.errors)")
            #expect(created.output.contains("Schedule \"nightly\" created successfully."))
            let schedule = try #require(try await server.object("nightly", as: Schedule.self))
            #expect(schedule.spec.schedule == "@every 1h" && schedule.spec.paused == true)
            #expect(schedule.spec.template.includedNamespaces == [namespace])
            #expect(schedule.spec.template.ttl == "24h0m0s")
            try await server.waitFor("the schedule to be validated") {
                try await server.object("nightly", as: Schedule.self)?.status?.phase == .enabled ? true : nil
            }
            let table = try await server.cli(["get", "schedules"])
            let row = table.output.split(separator: "\n").first { $0.hasPrefix("nightly ") }
            #expect(row?.contains("Enabled") == true && row?.contains("@every 1h") == true, "\(table.output)")
            #expect(row?.hasSuffix("true") == true, "paused")

            // YAML keeps Velero's types: booleans are booleans.
            let yaml = try await server.cli(["schedule", "get", "nightly", "-o", "yaml"])
            #expect(yaml.output.contains("paused: true") && yaml.output.contains("useOwnerReferencesInBackup: true"))
            #expect(
                yaml.output.contains("kind: List") && yaml.output.contains("schedule: '@every 1h'"), "\(yaml.output)")

            let unpaused = try await server.cli(["schedule", "unpause", "nightly", "--skip-immediately"])
            #expect(unpaused.output.contains("Schedule nightly unpaused successfully"), "\(unpaused.errors)")
            #expect(try await server.object("nightly", as: Schedule.self)?.spec.paused == false)
            let again = try await server.cli(["schedule", "unpause", "nightly"])
            #expect(again.output.contains("Schedule nightly is already unpaused, skip"))
            let paused = try await server.cli(["schedule", "pause", "--all"])
            #expect(paused.output.contains("Schedule nightly paused successfully"))

            let fromSchedule = try await server.cli(["backup", "create", "--from-schedule", "nightly", "--wait"])
            #expect(fromSchedule.status == 0, "\(fromSchedule.output) \(fromSchedule.errors)")
            #expect(fromSchedule.output.contains("Creating backup from schedule, all other filters are ignored."))
            let backups = try await server.client.list(
                Backup.resource, namespace: "velero", labelSelector: "\(Velero.scheduleNameLabel)=nightly")
            let backup = try Backup.decode(try #require(backups.items.first).json)
            #expect(backup.name.hasPrefix("nightly-") && backup.name.count == "nightly-".count + 14)
            #expect(backup.spec.includedNamespaces == [namespace] && backup.phase == .completed)
            #expect(String(decoding: backups.items[0].json, as: UTF8.self).contains(#""ownerReferences""#))

            // A restore of the schedule's newest completed backup.
            let restored = try await server.cli([
                "restore", "create", "again", "--from-schedule", "nightly", "--namespace-mappings",
                "\(namespace):again", "--wait",
            ])
            #expect(restored.status == 0, "\(restored.output) \(restored.errors)")
            #expect(try await server.object("again", as: Restore.self)?.spec.scheduleName == "nightly")
            #expect(server.sim.objectCount(namespace: "again") > 0)

            let described = try await server.cli(["schedule", "describe", "nightly"])
            #expect(
                described.output.contains("Schedule:     @every 1h") && described.output.contains("Paused:       true"))
            let deleted = try await server.cli(["schedule", "delete", "nightly", "--confirm"])
            #expect(deleted.output.contains("Schedule deleted: nightly"), "\(deleted.errors)")
            #expect(try await server.object("nightly", as: Schedule.self) == nil)

            // Schedules have no in-process form.
            let local = try await server.cli(["schedule", "get", "--local"])
            #expect(local.status != 0 && local.errors.contains("needs a velero-cas server"), "\(local.errors)")
            let localFromSchedule = try await server.cli([
                "backup", "create", "--from-schedule", "nightly", "--local", "--store", server.store,
            ])
            #expect(localFromSchedule.status != 0 && localFromSchedule.errors.contains("--from-schedule needs"))

            // A server that stops removes its Lease: the CLI then finds none.
            server.stop()
            #expect(try await server.lease() == nil)
            let none = try await server.cli(["schedule", "get"])
            #expect(none.status != 0 && none.errors.contains("none runs in namespace 'velero'"), "\(none.errors)")
        }
    }
}
