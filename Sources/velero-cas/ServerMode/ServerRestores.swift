import ArgumentParser
import BackupModel
import Foundation
import KubeClient
import Restorer
import VeleroAPI

/// The restore verbs through a velero-cas server: Restore objects, as Velero's CLI makes them.
enum ServerRestores {
    /// A Restore from `restore create`'s flags; printed instead with `-o`; with `--wait`, watched until final.
    static func create(_ session: ServerSession, name: String, command: RestoreCreateCommand) async throws {
        var restore = Restore(name: name, namespace: session.namespace, spec: try spec(command))
        let labels = try RestoreCreateCommand.labels(command.labels, flag: "--labels")
        let annotations = try keyValues(command.annotations, flag: "--annotations")
        if !labels.isEmpty { restore.metadata.labels = labels }
        if !annotations.isEmpty { restore.metadata.annotations = annotations }
        if let output = command.output { return try ObjectOutput.print([restore], format: output, single: true) }
        let created = try await session.create(restore)
        print("Restore request \"\(name)\" submitted successfully.")
        guard command.wait else {
            print("Run `velero-cas restore describe \(name)` or `velero-cas restore logs \(name)` for more details.")
            return
        }
        print(
            "Waiting for restore to complete. You may safely press ctrl-c to stop waiting - your restore will continue in the background."
        )
        let finished = try await session.waitForFinal(created)
        print(
            "\nRestore completed with status: \(finished.phase.rawValue). You may check for more information using the commands `velero-cas restore describe \(name)` and `velero-cas restore logs \(name)`."
        )
        ServerBackups.report(finished.status)
        guard finished.phase == .completed else { throw ExitCode(1) }
    }

    /// The spec, validated as in process (policies, mappings, selectors), with Velero's field names.
    static func spec(_ command: RestoreCreateCommand) throws -> Restore.Spec {
        var spec = Restore.Spec(backupName: command.fromBackup)
        spec.scheduleName = command.fromSchedule
        func list(_ values: [String]) -> [String]? { values.isEmpty ? nil : values }
        spec.includedNamespaces = list(commaList(command.includeNamespaces))
        spec.excludedNamespaces = list(commaList(command.excludeNamespaces))
        spec.includedResources = list(commaList(command.includeResources))
        spec.excludedResources = list(commaList(command.excludeResources))
        let mappings = try RestoreOptions.parseNamespaceMappings(command.namespaceMappings ?? "")
        spec.namespaceMapping = mappings.isEmpty ? nil : mappings
        spec.labelSelector = try command.selector.map { LabelSelectorSpec(try LabelSelector(parsing: $0)) }
        if let orSelector = command.orSelector {
            spec.orLabelSelectors = try orSelector.components(separatedBy: " or ").map {
                LabelSelectorSpec(try LabelSelector(parsing: $0))
            }
        }
        spec.restorePVs = command.restoreVolumes
        spec.preserveNodePorts = command.preserveNodePorts ? true : nil
        spec.includeClusterResources = command.includeClusterResources
        spec.existingResourcePolicy = command.existingResourcePolicy
        let statusIncluded = commaList(command.statusIncludeResources)
        let statusExcluded = commaList(command.statusExcludeResources)
        if !statusIncluded.isEmpty || !statusExcluded.isEmpty {
            spec.restoreStatus = .init(includedResources: list(statusIncluded), excludedResources: list(statusExcluded))
        }
        spec.resourceModifier = command.resourceModifierConfigMap.map { .init(kind: "ConfigMap", name: $0) }
        return spec
    }

    /// Deletes the selected Restore objects (what they restored stays in the cluster; their records stay in the
    /// store until their backup is deleted).
    static func delete(_ session: ServerSession, selection: RecordSelection, confirm: Bool) async throws {
        let restores = try await session.select(selection, as: Restore.self)
        let names = try selection.namesToDelete(restores.map(\.name), kind: "restore", confirm: confirm)
        for name in names {
            try await session.delete(Restore.self, name)
            print("restore \(name) deleted")
        }
    }
}
