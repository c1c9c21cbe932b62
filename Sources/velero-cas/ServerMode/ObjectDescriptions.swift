import KubeClient
import VeleroAPI

/// `describe` through the server: the local mode's layout, from the objects' spec and status.
enum ObjectDescriptions {
    static func backup(_ backup: Backup) {
        let spec = backup.spec
        let status = backup.status
        header(backup.metadata, phase: backup.phase.rawValue)
        print("Namespaces:   \(included(spec.includedNamespaces, spec.excludedNamespaces))")
        print("Resources:    \(included(spec.includedResources, spec.excludedResources))")
        print("Selector:     \(ObjectTables.selector(spec.labelSelector, spec.orLabelSelectors))")
        print("Storage:      \(spec.storageLocation ?? "default")")
        print("TTL:          \(spec.ttl ?? "720h0m0s")")
        print("Started:      \(ObjectOutput.date(status?.startTimestamp))")
        print("Completed:    \(ObjectOutput.date(status?.completionTimestamp))")
        print("Expires:      \(ObjectOutput.date(status?.expiration))")
        print("Items:        \(status?.progress?.itemsBackedUp ?? 0) of \(status?.progress?.totalItems ?? 0)")
        HookDescriptions.print(status?.hookStatus)
        runStatus(status)
    }

    static func restore(_ restore: Restore) {
        let spec = restore.spec
        header(restore.metadata, phase: restore.phase.rawValue)
        if let backup = spec.backupName, !backup.isEmpty { print("Backup:       \(backup)") }
        if let schedule = spec.scheduleName, !schedule.isEmpty { print("Schedule:     \(schedule)") }
        print("Namespaces:   \(included(spec.includedNamespaces, spec.excludedNamespaces))")
        print("Resources:    \(included(spec.includedResources, spec.excludedResources))")
        if let mapping = spec.namespaceMapping, !mapping.isEmpty {
            print(
                "Mappings:     \(mapping.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))"
            )
        }
        print("Started:      \(ObjectOutput.date(restore.status?.startTimestamp))")
        print("Completed:    \(ObjectOutput.date(restore.status?.completionTimestamp))")
        print(
            "Items:        \(restore.status?.progress?.itemsRestored ?? 0) of \(restore.status?.progress?.totalItems ?? 0)"
        )
        HookDescriptions.print(restore.status?.hookStatus)
        runStatus(restore.status)
    }

    static func schedule(_ schedule: Schedule) {
        let template = schedule.spec.template
        header(schedule.metadata, phase: schedule.status?.phase?.rawValue ?? "New")
        print("Schedule:     \(schedule.spec.schedule)")
        print("Paused:       \(schedule.spec.paused ?? false)")
        print("Last backup:  \(ObjectOutput.date(schedule.status?.lastBackup))")
        print("Namespaces:   \(included(template.includedNamespaces, template.excludedNamespaces))")
        print("Resources:    \(included(template.includedResources, template.excludedResources))")
        print("Selector:     \(ObjectTables.selector(template.labelSelector, template.orLabelSelectors))")
        print("Storage:      \(template.storageLocation ?? "default")")
        print("TTL:          \(template.ttl ?? "720h0m0s")")
        for reason in schedule.status?.validationErrors ?? [] { print("Invalid:      \(reason)") }
    }

    private static func header(_ metadata: ObjectMeta, phase: String) {
        print("Name:         \(metadata.name ?? "")")
        print("Namespace:    \(metadata.namespace ?? "")")
        if let labels = metadata.labels, !labels.isEmpty { print("Labels:       \(Format.labels(labels))") }
        if let annotations = metadata.annotations, !annotations.isEmpty {
            print("Annotations:  \(Format.labels(annotations))")
        }
        print("Phase:        \(phase)")
    }

    private static func runStatus(_ status: (some RunStatus)?) {
        guard let status else { return }
        print("Errors:       \(status.errors ?? 0)")
        print("Warnings:     \(status.warnings ?? 0)")
        if let reason = status.failureReason, !reason.isEmpty { print("Failure:      \(reason)") }
        for reason in status.validationErrors ?? [] { print("Invalid:      \(reason)") }
    }

    private static func included(_ included: [String]?, _ excluded: [String]?) -> String {
        let included = (included ?? []).isEmpty ? "*" : included!.joined(separator: ",")
        let excluded = (excluded ?? []).isEmpty ? "<none>" : excluded!.joined(separator: ",")
        return "included \(included), excluded \(excluded)"
    }
}
