import VeleroAPI

/// The tables of `get` through the server: the local mode's columns, filled from the objects' status.
enum ObjectTables {
    static func backups(_ backups: [Backup], showLabels: Bool) -> Table {
        var table = Table(
            header: ["NAME", "STATUS", "ERRORS", "WARNINGS", "CREATED", "EXPIRES", "STORAGE LOCATION", "SELECTOR"]
                + (showLabels ? ["LABELS"] : []))
        for backup in backups {
            let status = backup.status
            table.rows.append(
                [
                    backup.name, backup.phase.rawValue, "\(status?.errors ?? 0)", "\(status?.warnings ?? 0)",
                    status?.startTimestamp.map(Format.date) ?? ObjectOutput.created(backup.metadata),
                    ObjectOutput.date(status?.expiration), backup.spec.storageLocation ?? "default",
                    selector(backup.spec.labelSelector, backup.spec.orLabelSelectors),
                ] + (showLabels ? [Format.labels(backup.metadata.labels ?? [:])] : []))
        }
        return table
    }

    /// Restores: the server keeps counts, not the created/updated/skipped split of the store's record ("-").
    static func restores(_ restores: [Restore], showLabels: Bool) -> Table {
        var table = Table(
            header: ["NAME", "BACKUP", "STATUS", "CREATED", "UPDATED", "SKIPPED", "FAILED", "STARTED"]
                + (showLabels ? ["LABELS"] : []))
        for restore in restores {
            table.rows.append(
                [
                    restore.name, restore.spec.backupName ?? restore.spec.scheduleName ?? "", restore.phase.rawValue,
                    "-", "-", "-", "\(restore.status?.errors ?? 0)", ObjectOutput.date(restore.status?.startTimestamp),
                ] + (showLabels ? [Format.labels(restore.metadata.labels ?? [:])] : []))
        }
        return table
    }

    /// Velero's schedule columns.
    static func schedules(_ schedules: [Schedule], showLabels: Bool) -> Table {
        var table = Table(
            header: ["NAME", "STATUS", "CREATED", "SCHEDULE", "BACKUP TTL", "LAST BACKUP", "SELECTOR", "PAUSED"]
                + (showLabels ? ["LABELS"] : []))
        for schedule in schedules {
            let template = schedule.spec.template
            table.rows.append(
                [
                    schedule.name, schedule.status?.phase?.rawValue ?? "New", ObjectOutput.created(schedule.metadata),
                    schedule.spec.schedule, template.ttl ?? "720h0m0s",
                    ObjectOutput.date(schedule.status?.lastBackup),
                    selector(template.labelSelector, template.orLabelSelectors), "\(schedule.spec.paused ?? false)",
                ] + (showLabels ? [Format.labels(schedule.metadata.labels ?? [:])] : []))
        }
        return table
    }

    static func selector(_ single: LabelSelectorSpec?, _ any: [LabelSelectorSpec]?) -> String {
        if let text = try? single?.selectorString(), !text.isEmpty { return text }
        let texts = (any ?? []).compactMap { try? $0.selectorString() }.filter { !$0.isEmpty }
        return texts.isEmpty ? "<none>" : texts.joined(separator: " or ")
    }
}
