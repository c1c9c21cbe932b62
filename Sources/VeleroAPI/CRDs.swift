import Foundation

/// An OpenAPI v3 schema as CustomResourceDefinitions take it (structural: every node has a type).
public final class Schema: Encodable, Sendable {
    let type: String?
    let format: String?
    let description: String?
    let properties: [String: Schema]?
    let items: Schema?
    let additionalProperties: Schema?
    let enumValues: [String]?
    let required: [String]?
    let minimum: Int?
    let preserveUnknownFields: Bool?
    let nullable: Bool?

    init(
        type: String?, format: String? = nil, description: String? = nil, properties: [String: Schema]? = nil,
        items: Schema? = nil, additionalProperties: Schema? = nil, enumValues: [String]? = nil,
        required: [String]? = nil, minimum: Int? = nil, preserveUnknownFields: Bool? = nil, nullable: Bool? = nil
    ) {
        self.type = type
        self.format = format
        self.description = description
        self.properties = properties
        self.items = items
        self.additionalProperties = additionalProperties
        self.enumValues = enumValues
        self.required = required
        self.minimum = minimum
        self.preserveUnknownFields = preserveUnknownFields
        self.nullable = nullable
    }

    enum CodingKeys: String, CodingKey {
        case type, format, description, properties, items, additionalProperties, required, minimum, nullable
        case enumValues = "enum"
        case preserveUnknownFields = "x-kubernetes-preserve-unknown-fields"
    }

    static func string(_ description: String? = nil, enum values: [String]? = nil) -> Schema {
        Schema(type: "string", description: description, enumValues: values)
    }
    static func time(_ description: String) -> Schema {
        Schema(type: "string", format: "date-time", description: description, nullable: true)
    }
    static func integer(_ description: String) -> Schema { Schema(type: "integer", description: description) }
    static func count(_ description: String) -> Schema {
        Schema(type: "integer", description: description, minimum: 0)
    }
    static func boolean(_ description: String) -> Schema {
        Schema(type: "boolean", description: description, nullable: true)
    }
    static func strings(_ description: String) -> Schema {
        Schema(type: "array", description: description, items: .string(), nullable: true)
    }
    static func stringMap(_ description: String) -> Schema {
        Schema(type: "object", description: description, additionalProperties: .string(), nullable: true)
    }
    static func object(
        _ description: String? = nil, _ properties: [String: Schema], required: [String]? = nil
    ) -> Schema {
        Schema(type: "object", description: description, properties: properties, required: required)
    }
    /// An object whose content the server keeps as it is (hooks, uploader configuration: accepted, not yet used).
    static func open(_ description: String) -> Schema {
        Schema(type: "object", description: description, preserveUnknownFields: true, nullable: true)
    }
}

/// CustomResourceDefinitions (apiextensions.k8s.io/v1) for the Velero kinds velero-cas serves. The schemas are
/// written here from the kinds' documented fields; every kind has the status subresource, so the controllers write
/// status without touching spec and a user's `kubectl apply` cannot overwrite status.
public enum VeleroCRDs {
    public struct Definition: Encodable, Sendable {
        public let apiVersion = "apiextensions.k8s.io/v1"
        public let kind = "CustomResourceDefinition"
        public let metadata: Metadata
        public let spec: Spec

        public struct Metadata: Encodable, Sendable {
            public let name: String
            public let labels: [String: String]
        }
        public struct Names: Encodable, Sendable {
            let kind: String
            let listKind: String
            let plural: String
            let singular: String
            let shortNames: [String]?
        }
        public struct Column: Encodable, Sendable {
            let name: String
            let type: String
            let jsonPath: String
            let description: String?
        }
        public struct Version: Encodable, Sendable {
            let name = Velero.version
            let served = true
            let storage = true
            let schema: [String: Schema]
            let subresources: [String: [String: String]]
            let additionalPrinterColumns: [Column]
        }
        public struct Spec: Encodable, Sendable {
            let group = Velero.group
            let scope = "Namespaced"
            let names: Names
            let versions: [Version]
        }

        /// The definition's JSON, as `kubectl apply -f` or a POST takes it.
        public func json() throws -> [UInt8] { Array(try Velero.encoder().encode(self)) }
    }

    static func definition(
        kind: String, plural: String, shortNames: [String]? = nil, description: String, spec: Schema, status: Schema,
        columns: [Definition.Column]
    ) -> Definition {
        let root = Schema.object(
            description,
            [
                "apiVersion": .string("velero.io/v1"), "kind": .string(kind),
                "metadata": Schema(type: "object"), "spec": spec, "status": status,
            ])
        return Definition(
            metadata: .init(name: "\(plural).\(Velero.group)", labels: ["component": "velero"]),
            spec: .init(
                names: .init(
                    kind: kind, listKind: kind + "List", plural: plural, singular: kind.lowercased(),
                    shortNames: shortNames),
                versions: [
                    .init(
                        schema: ["openAPIV3Schema": root], subresources: ["status": [:]],
                        additionalPrinterColumns: columns)
                ]))
    }

    static func column(_ name: String, _ type: String, _ path: String, _ description: String? = nil)
        -> Definition.Column
    {
        Definition.Column(name: name, type: type, jsonPath: path, description: description)
    }

    static let labelSelector = Schema.object(
        "A label selector (matchLabels and matchExpressions, ANDed).",
        [
            "matchLabels": .stringMap("Labels an object must have."),
            "matchExpressions": Schema(
                type: "array", description: "Requirements an object's labels must meet.",
                items: .object(
                    nil,
                    [
                        "key": .string("The label key."),
                        "operator": .string(
                            "How the key relates to the values.", enum: ["In", "NotIn", "Exists", "DoesNotExist"]),
                        "values": .strings("Values for In and NotIn."),
                    ], required: ["key", "operator"]), nullable: true),
        ])

    static let orLabelSelectors = Schema(
        type: "array", description: "Objects matching any of these selectors (cannot be used with labelSelector).",
        items: labelSelector, nullable: true)

    static let duration = "A duration in Go syntax, e.g. 720h0m0s."

    static let backupSpec = Schema.object(
        "What to back up.",
        [
            "metadata": .object("Metadata for the backup.", ["labels": .stringMap("Labels for the backup.")]),
            "includedNamespaces": .strings("Namespaces to include ('*' or empty: all); globs allowed."),
            "excludedNamespaces": .strings("Namespaces to exclude."),
            "includedResources": .strings("Resources to include (empty: all)."),
            "excludedResources": .strings("Resources to exclude."),
            "includedClusterScopedResources": .strings("Cluster-scoped resources to include."),
            "excludedClusterScopedResources": .strings("Cluster-scoped resources to exclude."),
            "includedNamespaceScopedResources": .strings("Namespace-scoped resources to include."),
            "excludedNamespaceScopedResources": .strings("Namespace-scoped resources to exclude."),
            "labelSelector": labelSelector,
            "orLabelSelectors": orLabelSelectors,
            "snapshotVolumes": .boolean("Back up persistent volume data (default true)."),
            "ttl": .string("How long the backup is kept. " + duration),
            "includeClusterResources": .boolean("Include cluster-scoped resources."),
            "storageLocation": .string("The BackupStorageLocation to write to (default: the default location)."),
            "volumeSnapshotLocations": .strings("Volume snapshot locations (recorded)."),
            "defaultVolumesToFsBackup": .boolean("Back up pod volumes with the file-system uploader by default."),
            "defaultVolumesToRestic": .boolean("Deprecated name of defaultVolumesToFsBackup."),
            "orderedResources": .stringMap("Backup order of objects per resource."),
            "csiSnapshotTimeout": .string(duration),
            "itemOperationTimeout": .string(duration),
            "snapshotMoveData": .boolean("Move snapshot data to the storage location."),
            "datamover": .string("The data mover to use."),
            "volumeGroupSnapshotLabelKey": .string("Label key grouping volumes for group snapshots."),
            "parallelFilesUpload": .integer("Files uploaded at once per volume."),
            "hooks": .open("Backup hooks: exec commands run in pods before and after their volumes are backed up."),
            "resourcePolicy": .open("A reference to a resource policy ConfigMap."),
            "uploaderConfig": .open("Uploader configuration."),
        ])

    public static let backup = definition(
        kind: "Backup", plural: "backups", description: "A backup of cluster resources and volume data.",
        spec: backupSpec,
        status: .object(
            "What the server has done with the backup.",
            [
                "version": .integer("Backup format version."),
                "formatVersion": .string("Backup format version, semantic."),
                "expiration": .time("When the backup may be garbage-collected."),
                "phase": .string(
                    "The backup's phase.",
                    enum: [
                        "New", "FailedValidation", "InProgress", "WaitingForPluginOperations",
                        "WaitingForPluginOperationsPartiallyFailed", "Finalizing", "FinalizingPartiallyFailed",
                        "Completed", "PartiallyFailed", "Failed", "Deleting",
                    ]),
                "queuePosition": .count("Position in the queue of new backups."),
                "validationErrors": .strings("Why the spec is invalid."),
                "startTimestamp": .time("When the backup started."),
                "completionTimestamp": .time("When the backup finished."),
                "volumeSnapshotsAttempted": .count("Volume snapshots attempted."),
                "volumeSnapshotsCompleted": .count("Volume snapshots completed."),
                "failureReason": .string("Why the backup failed."),
                "warnings": .count("Warnings during the backup."),
                "errors": .count("Errors during the backup."),
                "progress": .object(
                    "Items to back up and backed up so far.",
                    ["totalItems": .count("Items to back up."), "itemsBackedUp": .count("Items backed up.")]),
                "csiVolumeSnapshotsAttempted": .count("CSI snapshots attempted."),
                "csiVolumeSnapshotsCompleted": .count("CSI snapshots completed."),
                "backupItemOperationsAttempted": .count("Asynchronous item operations attempted."),
                "backupItemOperationsCompleted": .count("Asynchronous item operations completed."),
                "backupItemOperationsFailed": .count("Asynchronous item operations failed."),
                "hookStatus": .object(
                    "Hooks attempted and failed.",
                    ["hooksAttempted": .count("Hooks run."), "hooksFailed": .count("Hooks that failed.")]),
            ]),
        columns: [
            column("Status", "string", ".status.phase", "The backup's phase"),
            column("Errors", "integer", ".status.errors"),
            column("Warnings", "integer", ".status.warnings"),
            column("Created", "date", ".status.startTimestamp"),
            column("Expires", "date", ".status.expiration"),
            column("Storage Location", "string", ".spec.storageLocation"),
        ])

    public static let restore = definition(
        kind: "Restore", plural: "restores", description: "A restore of a backup into the cluster.",
        spec: .object(
            "What to restore.",
            [
                "backupName": .string("The backup to restore."),
                "scheduleName": .string("Restore the newest completed backup of this schedule."),
                "includedNamespaces": .strings("Namespaces to include (globs allowed)."),
                "excludedNamespaces": .strings("Namespaces to exclude."),
                "includedResources": .strings("Resources to include."),
                "excludedResources": .strings("Resources to exclude."),
                "namespaceMapping": .stringMap("Restore namespaces under other names: source to target."),
                "labelSelector": labelSelector,
                "orLabelSelectors": orLabelSelectors,
                "restorePVs": .boolean("Restore persistent volume data (default true)."),
                "restoreStatus": .object(
                    "Resources whose status is restored.",
                    [
                        "includedResources": .strings("Resources whose status is restored ('*' for all)."),
                        "excludedResources": .strings("Resources whose status is not restored."),
                    ]),
                "preserveNodePorts": .boolean("Keep Services' auto-assigned node ports."),
                "includeClusterResources": .boolean("Include cluster-scoped resources."),
                "existingResourcePolicy": .string("What to do with objects that exist: none or update."),
                "itemOperationTimeout": .string(duration),
                "resourceModifier": .object(
                    "A ConfigMap holding resource modifier rules.",
                    ["apiGroup": .string(), "kind": .string(), "name": .string()], required: ["kind", "name"]),
                "hooks": .open("Restore hooks: init containers added to restored pods, and exec hooks run in them."),
                "uploaderConfig": .open("Uploader configuration."),
            ]),
        status: .object(
            "What the server has done with the restore.",
            [
                "phase": .string(
                    "The restore's phase.",
                    enum: [
                        "New", "FailedValidation", "InProgress", "WaitingForPluginOperations",
                        "WaitingForPluginOperationsPartiallyFailed", "Finalizing", "FinalizingPartiallyFailed",
                        "Completed", "PartiallyFailed", "Failed",
                    ]),
                "validationErrors": .strings("Why the spec is invalid."),
                "warnings": .count("Warnings during the restore."),
                "errors": .count("Errors during the restore."),
                "failureReason": .string("Why the restore failed."),
                "startTimestamp": .time("When the restore started."),
                "completionTimestamp": .time("When the restore finished."),
                "progress": .object(
                    "Items to restore and restored so far.",
                    ["totalItems": .count("Items to restore."), "itemsRestored": .count("Items restored.")]),
                "restoreItemOperationsAttempted": .count("Asynchronous item operations attempted."),
                "restoreItemOperationsCompleted": .count("Asynchronous item operations completed."),
                "restoreItemOperationsFailed": .count("Asynchronous item operations failed."),
                "hookStatus": .open("Hooks attempted and failed."),
            ]),
        columns: [
            column("Backup", "string", ".spec.backupName"),
            column("Status", "string", ".status.phase"),
            column("Started", "date", ".status.startTimestamp"),
            column("Completed", "date", ".status.completionTimestamp"),
        ])

    public static let schedule = definition(
        kind: "Schedule", plural: "schedules", description: "Backups made on a schedule.",
        spec: .object(
            "When and what to back up.",
            [
                "template": backupSpec,
                "schedule": .string("A five-field cron expression, or @every <duration>, @hourly, @daily…"),
                "useOwnerReferencesInBackup": .boolean("Make the schedule the owner of its backups."),
                "paused": .boolean("Make no backups while true."),
                "skipImmediately": .boolean("Skip the run due right after creation or unpausing."),
            ], required: ["schedule", "template"]),
        status: .object(
            "The schedule's state.",
            [
                "phase": .string("The schedule's phase.", enum: ["New", "Enabled", "FailedValidation"]),
                "lastBackup": .time("When the last backup was made."),
                "lastSkipped": .time("When a run was last skipped."),
                "validationErrors": .strings("Why the spec is invalid."),
            ]),
        columns: [
            column("Status", "string", ".status.phase"),
            column("Schedule", "string", ".spec.schedule"),
            column("LastBackup", "date", ".status.lastBackup"),
            column("Paused", "boolean", ".spec.paused"),
        ])

    public static let backupStorageLocation = definition(
        kind: "BackupStorageLocation", plural: "backupstoragelocations", shortNames: ["bsl"],
        description: "Where backups are stored.",
        spec: .object(
            "The store.",
            [
                "provider": .string("aws (S3 and compatible stores) or local (a directory: config.path)."),
                "config": .stringMap("Provider settings: region, s3Url, s3ForcePathStyle, profile, path…"),
                "credential": .object(
                    "A Secret key holding credentials (AWS INI format for aws).",
                    ["name": .string(), "key": .string(), "optional": .boolean("")], required: ["key"]),
                "objectStorage": .object(
                    "The bucket and prefix.",
                    [
                        "bucket": .string("The bucket."), "prefix": .string("A prefix within the bucket."),
                        "caCert": Schema(type: "string", format: "byte", description: "A CA bundle for the store."),
                        "caCertRef": .open("A Secret key holding a CA bundle."),
                    ], required: ["bucket"]),
                "default": .boolean("The default location for backups that name none."),
                "accessMode": .string("ReadWrite or ReadOnly.", enum: ["ReadOnly", "ReadWrite"]),
                "backupSyncPeriod": .string("How often backups are synced from the store. " + duration),
                "validationFrequency": .string("How often the store is checked. " + duration),
            ], required: ["provider"]),
        status: .object(
            "The location's state.",
            [
                "phase": .string("Available or Unavailable.", enum: ["Available", "Unavailable"]),
                "lastSyncedTime": .time("When backups were last synced."),
                "lastValidationTime": .time("When the store was last checked."),
                "message": .string("Why the location is unavailable."),
                "lastSyncedRevision": .string("The store revision last synced."),
                "accessMode": .string("Deprecated copy of spec.accessMode."),
            ]),
        columns: [
            column("Phase", "string", ".status.phase"),
            column("Last Validated", "date", ".status.lastValidationTime"),
            column("Access Mode", "string", ".spec.accessMode"),
            column("Default", "boolean", ".spec.default"),
        ])

    public static let deleteBackupRequest = definition(
        kind: "DeleteBackupRequest", plural: "deletebackuprequests",
        description: "A request to delete a backup, its data and its restores.",
        spec: .object("Which backup.", ["backupName": .string("The backup to delete.")], required: ["backupName"]),
        status: .object(
            "How the request went.",
            [
                "phase": .string("The request's phase.", enum: ["New", "InProgress", "Processed"]),
                "errors": .strings("What went wrong."),
            ]),
        columns: [
            column("BackupName", "string", ".spec.backupName"),
            column("Status", "string", ".status.phase"),
        ])

    /// Every definition, in the order they are installed.
    public static let all = [
        backup, restore, schedule, backupStorageLocation, deleteBackupRequest, downloadRequest, serverStatusRequest,
        podVolumeBackup, podVolumeRestore,
    ]
}
