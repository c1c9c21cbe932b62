import ArgumentParser
import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Restorer
import SystemIO
import VeleroAPI
import VeleroServer

/// The demo as users of a cluster run it: `velero-cas server` runs against the served cluster (here in this
/// process, as the service `velero-cas server` runs), and every step is a Velero object the demo creates and
/// watches — a Backup, a Restore, a Schedule, a DeleteBackupRequest — exactly what `backup create --wait` and the
/// other verbs do through the server.
struct DemoThroughServer {
    let setup: DemoSetup
    let namespace = "velero"

    func run() async throws {
        let password = try await DemoInstall.install(setup.client, namespace: namespace, storePath: setup.storePath)
        // As the installed Deployment's pod gets it: from the Secret, through the environment.
        let passwords = StorePasswords(passwordFile: nil, environment: ["VELERO_CAS_PASSWORD": password])
        let server = VeleroServer(
            client: setup.client,
            configuration: VeleroServer.Configuration(
                namespace: namespace, passwords: passwords,
                credentialsDirectory: setup.workdir + "/credentials", scheduleCheckInterval: .seconds(1)))
        let serving = Task { try await server.run() }
        do {
            try await story(passwords)
            server.stop()
            _ = await serving.result
        } catch {
            serving.cancel()
            _ = await serving.result
            throw error
        }
    }

    private func story(_ passwords: StorePasswords) async throws {
        let session = ServerSession(client: setup.client, namespace: namespace)
        print("velero-cas server runs against the cluster (in this process, in place of the Deployment's pod)")
        var table = DemoSetup.table()

        print("Backup demo-1 created (as 'velero-cas backup create demo-1 --wait' makes it)")
        let first = try await finished(session.create(Backup(name: "demo-1", namespace: namespace)), session)
        let repository = try await Repository.open(
            try LocalDirectoryStore(root: setup.storePath, create: false), passwords: passwords)
        table.rows.append(DemoSetup.row("backup demo-1", try await record(first.name, repository)))

        let before = try await setup.loseShop()
        print("Restore restore-shop created from demo-1 for namespace shop")
        var restoreSpec = Restore.Spec(backupName: "demo-1")
        restoreSpec.includedNamespaces = ["shop"]
        let restoreStarted = ContinuousClock.now
        let restore = try await finished(
            session.create(Restore(name: "restore-shop", namespace: namespace, spec: restoreSpec)), session)
        let restoreTime = ContinuousClock.now - restoreStarted
        guard
            let restored = try await repository.record(RestoreRecord.self, key: RestoreRecord.key(restore.name))
        else { throw ValidationError("restore \(restore.name) has no record in \(setup.storePath)") }
        table.rows.append([
            "restore shop", "\(restored.created)", Format.bytes(restored.volumes.reduce(0) { $0 + $1.bytes }), "-", "-",
            // From the Restore's creation until the demo saw it Completed (the record keeps whole seconds).
            Format.seconds(Double(restoreTime.components.seconds) + Double(restoreTime.components.attoseconds) / 1e18),
        ])
        try await setup.verifyRestored(before: before, phase: restore.phase.rawValue, table: table)

        try await setup.changeALittle()
        let scheduled = try await scheduledBackup(session)
        table.rows.append(DemoSetup.row("backup \(scheduled.name)", try await record(scheduled.name, repository)))
        let log = String(decoding: try await session.fetch(.backupLog, scheduled.name), as: UTF8.self)
        print(
            "'velero-cas backup logs \(scheduled.name)' reads the backup's own log through a DownloadRequest: \(log.split(separator: "\n").count) lines"
        )

        print("DeleteBackupRequest for demo-1 created (as 'velero-cas backup delete demo-1 --confirm' makes it)")
        let storeBefore = try await Self.bytes(setup.storePath)
        let backup = try await session.get("demo-1", as: Backup.self)
        try await session.create(
            DeleteBackupRequest(backupName: "demo-1", backupUID: backup.metadata.uid, namespace: namespace))
        _ = try await until("backup demo-1 to be deleted") { () async throws -> Bool? in
            do {
                _ = try await session.get("demo-1", as: Backup.self)
                return nil
            } catch is ValidationError { return true }
        }
        let freed = storeBefore - (try await Self.bytes(setup.storePath))
        table.rows.append(["delete demo-1", "-", "-", "-" + Format.bytes(max(freed, 0)), "-", "-"])
        try await DemoLocal.verifyStore(repository, table: table)
        print(table.render())
        print(
            "deleted demo-1 through the server: only what \(scheduled.name) does not share was freed; verify --read-data is clean"
        )
        print(
            "verified: all \(before.count) objects of 'shop' are back as they were and the volume is byte-identical (store: \(setup.storePath))"
        )
    }

    /// A Schedule every 2 s (as 'velero-cas schedule create demo --schedule "@every 2s"' makes it), paused again once
    /// it has made its first backup; returns that backup, finished.
    private func scheduledBackup(_ session: ServerSession) async throws -> Backup {
        print("Schedule demo created: @every 2s; its first backup is the incremental one")
        try await session.create(Schedule(name: "demo", namespace: namespace, spec: .init(schedule: "@every 2s")))
        let made = try await until("the schedule's first backup") {
            try await session.list(Backup.self, labelSelector: "\(Velero.scheduleNameLabel)=demo").first
        }
        try await session.client.mergePatch(
            Schedule.resource, namespace: namespace, name: "demo", patch: Array(#"{"spec":{"paused":true}}"#.utf8))
        print("schedule demo made backup \(made.name) and is paused (as 'velero-cas schedule pause demo' does)")
        return try await finished(made, session)
    }

    /// Waits for the run to finish (silently) and refuses anything but Completed.
    private func finished<K: RunKind>(_ object: K, _ session: ServerSession) async throws -> K {
        let done = try await session.waitForFinal(object, dots: false)
        guard done.phase == .completed else {
            throw ValidationError(
                "\(K.kind) \(done.name) \(done.phase.rawValue): \(done.status?.failureReason ?? "") \(done.status?.validationErrors ?? [])"
            )
        }
        return done
    }

    private func record(_ name: String, _ repository: Repository) async throws -> BackupRecord {
        guard let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) else {
            throw ValidationError("backup \(name) has no record in \(setup.storePath)")
        }
        return record
    }

    /// Polls `condition` every 100 ms for up to a minute.
    private func until<T>(_ what: String, _ condition: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let value = try await condition() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("the demo timed out waiting for \(what)")
    }

    /// The bytes of the files under `path` (the store's size on disk), read on the blocking pool.
    static func bytes(_ path: String) async throws -> Int64 {
        try await BlockingPool.shared.run {
            var total: Int64 = 0
            let enumerator = FileManager.default.enumerator(atPath: path)
            while let item = enumerator?.nextObject() as? String {
                let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + item)
                if attributes?[.type] as? FileAttributeType == .typeRegular {
                    total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
                }
            }
            return total
        }
    }
}
