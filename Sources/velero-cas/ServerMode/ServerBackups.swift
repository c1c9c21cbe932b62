import ArgumentParser
import Foundation
import Restorer
import VeleroAPI

/// The backup verbs through a velero-cas server: Backup objects and DeleteBackupRequests, as Velero's CLI makes
/// them.
enum ServerBackups {
    /// A Backup from the flags, or from a schedule's template (`--from-schedule`, other filters ignored, as in
    /// Velero); printed instead with `-o`; with `--wait`, watched until its phase is final.
    static func create(
        _ session: ServerSession, name: String?, options: BackupSpecOptions, storageLocation: String?,
        fromSchedule: String?, wait: Bool, output: OutputFormat?
    ) async throws {
        let json: [UInt8]
        let backupName: String
        if let fromSchedule {
            let schedule = try await session.get(fromSchedule, as: Schedule.self)
            backupName = name ?? schedule.timestampedName(Date())
            json = try schedule.backupJSON(
                named: backupName, namespace: session.namespace,
                scheduleLabel: RestoreLabels.validValue(schedule.name))
        } else {
            guard let name else { throw ValidationError("backup create needs a NAME (or --from-schedule)") }
            backupName = name
            var backup = Backup(
                name: name, namespace: session.namespace, spec: try options.backupSpec(storageLocation: storageLocation)
            )
            let labels = try options.backupLabels
            let annotations = try options.backupAnnotations
            if !labels.isEmpty { backup.metadata.labels = labels }
            if !annotations.isEmpty { backup.metadata.annotations = annotations }
            json = try backup.encoded()
        }
        if let output { return try ObjectOutput.print(json: [json], format: output, single: true) }
        if fromSchedule != nil { print("Creating backup from schedule, all other filters are ignored.") }
        let created = try await session.create(json: json, name: backupName, as: Backup.self)
        print("Backup request \"\(backupName)\" submitted successfully.")
        guard wait else {
            print(
                "Run `velero-cas backup describe \(backupName)` or `velero-cas backup logs \(backupName)` for more details."
            )
            return
        }
        print(
            "Waiting for backup to complete. You may safely press ctrl-c to stop waiting - your backup will continue in the background."
        )
        let finished = try await session.waitForFinal(created)
        print(
            "\nBackup completed with status: \(finished.phase.rawValue). You may check for more information using the commands `velero-cas backup describe \(backupName)` and `velero-cas backup logs \(backupName)`."
        )
        report(finished.status)
        // As in local mode: a backup that cannot be restored from is a failed command.
        guard finished.phase == .completed || finished.phase == .partiallyFailed else { throw ExitCode(1) }
    }

    /// One DeleteBackupRequest per selected backup, labelled with its name and uid as Velero labels them; the
    /// server's deletion controller removes the data, the restores and the object.
    static func delete(
        _ session: ServerSession, selection: RecordSelection, confirm: Bool
    ) async throws {
        let backups = try await session.select(selection, as: Backup.self)
        let names = try selection.namesToDelete(backups.map(\.name), kind: "backup", confirm: confirm)
        for backup in backups where names.contains(backup.name) {
            var request = DeleteBackupRequest(
                backupName: backup.name, backupUID: backup.metadata.uid, namespace: session.namespace)
            request.metadata.labels?[Velero.backupNameLabel] = RestoreLabels.validValue(backup.name)
            try await session.create(request)
            print(
                "Request to delete backup \"\(backup.name)\" submitted successfully.\nThe backup will be fully deleted after all associated data (backup files, restores) are removed."
            )
        }
    }

    /// After a wait: why a run did not complete.
    static func report(_ status: (some RunStatus)?) {
        for reason in status?.validationErrors ?? [] { print("validation error: \(reason)") }
        if let reason = status?.failureReason, !reason.isEmpty { print("failure: \(reason)") }
    }
}
