import BackupModel
import Collectors
import Foundation
import Restorer
import VeleroAPI

/// Velero's specs turned into the requests the pipelines take, with every problem found collected (Velero reports
/// all of them in `status.validationErrors`, not just the first).
enum SpecConversion {
    /// The backup request for a Backup object, or the reasons it is invalid. `ttl` absent or zero means
    /// `defaultTTL`, as in Velero.
    static func backupRequest(
        _ backup: Backup, storageLocation: String, cluster: String, defaultTTL: Int, now: Date
    ) -> Result<BackupRecord, ValidationErrors> {
        let spec = backup.spec
        var errors: [String] = []
        var filter = spec.listFilter
        if spec.labelSelector != nil && !(spec.orLabelSelectors ?? []).isEmpty {
            errors.append("labelSelector and orLabelSelectors cannot both be specified")
        }
        (filter.labelSelector, filter.orLabelSelectors) = selectors(spec.labelSelector, spec.orLabelSelectors, &errors)
        if errors.isEmpty {
            do { try filter.validate() } catch { errors.append(error.description) }
        }
        var ttlSeconds: Int? = defaultTTL
        if let text = spec.ttl {
            if let seconds = KubeDuration.seconds(text), seconds >= 0 {
                if seconds >= 1 { ttlSeconds = Int(seconds) }
            } else {
                errors.append("ttl '\(text)' is not a non-negative duration (Go syntax, e.g. 720h0m0s)")
            }
        }
        guard errors.isEmpty else { return .failure(ValidationErrors(errors)) }
        var record = BackupRecord(
            name: backup.name, labels: backup.metadata.labels ?? [:],
            annotations: backup.metadata.annotations ?? [:], filter: filter,
            snapshotVolumes: spec.snapshotVolumes ?? true, ttlSeconds: ttlSeconds, storageLocation: storageLocation,
            cluster: cluster, start: now)
        if let locations = spec.volumeSnapshotLocations, !locations.isEmpty {
            record.volumeSnapshotLocations = locations
        }
        return .success(record)
    }

    /// The restore options for a Restore object, or the reasons it is invalid.
    static func restoreOptions(_ restore: Restore, veleroNamespace: String) -> Result<RestoreOptions, ValidationErrors>
    {
        let spec = restore.spec
        var errors: [String] = []
        let backupName = spec.backupName ?? ""
        let scheduleName = spec.scheduleName ?? ""
        if backupName.isEmpty == scheduleName.isEmpty {
            errors.append("either a backup or a schedule must be specified as the source of the restore, not both")
        }
        var options = RestoreOptions()
        options.includeNamespaces = spec.includedNamespaces ?? []
        options.excludeNamespaces = spec.excludedNamespaces ?? []
        options.includeResources = spec.includedResources ?? []
        options.excludeResources = spec.excludedResources ?? []
        options.namespaceMappings = spec.namespaceMapping ?? [:]
        if spec.labelSelector != nil && !(spec.orLabelSelectors ?? []).isEmpty {
            errors.append("labelSelector and orLabelSelectors cannot both be specified")
        }
        (options.labelSelector, options.orLabelSelectors) = selectors(
            spec.labelSelector, spec.orLabelSelectors, &errors)
        if let policy = spec.existingResourcePolicy, !policy.isEmpty {
            if let parsed = RestoreOptions.ExistingResourcePolicy(rawValue: policy) {
                options.existingResourcePolicy = parsed
            } else {
                errors.append("existingResourcePolicy '\(policy)' is invalid: use none or update")
            }
        }
        options.preserveNodePorts = spec.preserveNodePorts ?? false
        options.includeClusterResources = spec.includeClusterResources
        options.statusIncludeResources = spec.restoreStatus?.includedResources ?? []
        options.statusExcludeResources = spec.restoreStatus?.excludedResources ?? []
        if let modifier = spec.resourceModifier {
            if modifier.kind == "ConfigMap" {
                options.resourceModifierConfigMap = modifier.name
            } else {
                errors.append("resourceModifier must refer to a ConfigMap, not a \(modifier.kind)")
            }
        }
        options.veleroNamespace = veleroNamespace
        options.hooks = RestoreHookConversion.rules(spec.hooks, &errors)
        if errors.isEmpty {
            do { try options.validate() } catch { errors.append(error.description) }
        }
        return errors.isEmpty ? .success(options) : .failure(ValidationErrors(errors))
    }

    private static func selectors(
        _ selector: LabelSelectorSpec?, _ orSelectors: [LabelSelectorSpec]?, _ errors: inout [String]
    ) -> (String?, [String]) {
        var single: String?
        var any: [String] = []
        do {
            if let text = try selector?.selectorString(), !text.isEmpty { single = text }
            for item in orSelectors ?? [] {
                let text = try item.selectorString()
                if !text.isEmpty { any.append(text) }
            }
        } catch {
            errors.append(error.description)
        }
        return (single, any)
    }
}

/// Every reason a spec is invalid.
struct ValidationErrors: Error, CustomStringConvertible {
    var reasons: [String]
    init(_ reasons: [String]) { self.reasons = reasons }
    var description: String { reasons.joined(separator: "; ") }
}
