import Foundation
import KubeClient

/// Velero's PodVolumeBackup: one volume of one pod, backed up from the pod's node by that node's agent. The server
/// creates one per chosen pod volume of a Backup; the node agent whose node is `spec.node` reads the volume's
/// directory under the kubelet's root and writes the outcome here.
public struct PodVolumeBackup: VeleroKind, Equatable {
    public static let kind = "PodVolumeBackup"
    public static let plural = "podvolumebackups"

    /// Velero's PodVolumeBackupPhase values; velero-cas uses New, InProgress, Completed and Failed.
    public struct Phase: OpenPhase {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let new: Phase = "New"
        public static let accepted: Phase = "Accepted"
        public static let prepared: Phase = "Prepared"
        public static let inProgress: Phase = "InProgress"
        public static let canceling: Phase = "Canceling"
        public static let canceled: Phase = "Canceled"
        public static let completed: Phase = "Completed"
        public static let failed: Phase = "Failed"

        /// Phases after which nobody works on the object again.
        public var isFinal: Bool { [.completed, .failed, .canceled].contains(self) }
    }

    /// corev1.ObjectReference, as far as a pod volume backup uses it.
    public struct PodReference: Codable, Sendable, Equatable {
        public var kind: String?
        public var namespace: String?
        public var name: String?
        public var uid: String?
        public init(kind: String? = "Pod", namespace: String?, name: String?, uid: String?) {
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.uid = uid
        }
    }

    public struct Spec: Codable, Sendable, Equatable {
        /// The node the pod runs on: only that node's agent handles the object.
        public var node: String
        public var pod: PodReference
        /// The pod volume's name (`spec.volumes[].name`).
        public var volume: String
        public var backupStorageLocation: String
        /// Accepted for Velero compatibility; velero-cas stores into the location's content-addressed store.
        public var repoIdentifier: String?
        /// Accepted for Velero compatibility (kopia, restic); velero-cas has one uploader.
        public var uploaderType: String?
        public var tags: [String: String]?
        public var uploaderSettings: [String: String]?
        public var cancel: Bool?

        public init(node: String, pod: PodReference, volume: String, backupStorageLocation: String) {
            self.node = node
            self.pod = pod
            self.volume = volume
            self.backupStorageLocation = backupStorageLocation
        }
    }

    /// shared.DataMoveOperationProgress.
    public struct Progress: Codable, Sendable, Equatable {
        public var totalBytes: Int64?
        public var bytesDone: Int64?
        public init(totalBytes: Int64? = nil, bytesDone: Int64? = nil) {
            self.totalBytes = totalBytes
            self.bytesDone = bytesDone
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: Phase?
        /// The directory read on the node.
        public var path: String?
        /// The snapshot holding the volume's data in the store.
        public var snapshotID: String?
        /// Why it failed, or a note about what was done.
        public var message: String?
        public var startTimestamp: Date?
        public var completionTimestamp: Date?
        public var progress: Progress?
        /// Bytes newly stored by this backup (after dedup and compression).
        public var incrementalBytes: Int64?
        public init(phase: Phase? = nil) { self.phase = phase }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = PodVolumeBackup.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    /// The phase; an object without one is New.
    public var phase: Phase { status?.phase ?? .new }

    /// Label naming the claim's uid on a backup of a claim-backed volume (Velero's `velero.io/pvc-uid`).
    public static let pvcUIDLabel = "velero.io/pvc-uid"
    /// Annotation naming the claim (Velero's `velero.io/pvc-name`).
    public static let pvcNameAnnotation = "velero.io/pvc-name"
    /// velero-cas's own: the backup's commit identity, so the volume's snapshot expires with the backup.
    public static let backupCommitAnnotation = "velero-cas.io/backup-commit"
    /// velero-cas's own: the object backs up a hostPath or local persistent volume (`spec.volume` names it) at
    /// this path on the node, not a pod's volume.
    public static let hostPathAnnotation = "velero-cas.io/host-path"
}

extension VeleroCRDs {
    public static let podVolumeBackup = definition(
        kind: "PodVolumeBackup", plural: "podvolumebackups",
        description: "One pod volume's data, backed up by the node agent of the pod's node.",
        spec: .object(
            "Which volume of which pod, and where its data goes.",
            [
                "node": .string("The node the pod runs on."),
                "pod": podReference("The pod."),
                "volume": .string("The pod volume's name."),
                "backupStorageLocation": .string("The storage location the data goes to."),
                "repoIdentifier": .string("Velero's repository identifier (accepted, unused)."),
                "uploaderType": .string("Velero's uploader (accepted, unused)."),
                "tags": .stringMap("Tags recorded with the snapshot."),
                "uploaderSettings": .stringMap("Uploader settings (accepted, unused)."),
                "cancel": .boolean("Asks the agent to stop."),
            ], required: ["node", "pod", "volume", "backupStorageLocation"]),
        status: .object(
            "How the volume's backup went.",
            [
                "phase": podVolumePhase,
                "path": .string("The directory read on the node."),
                "snapshotID": .string("The snapshot holding the data."),
                "message": .string("Why it failed."),
                "startTimestamp": .time("When the agent started."),
                "completionTimestamp": .time("When the agent finished."),
                "acceptedTimestamp": .time("When the agent accepted it."),
                "incrementalBytes": .integer("Bytes newly stored."),
                "progress": progress,
            ]),
        columns: podVolumeColumns(nodePath: ".spec.node"))

    /// corev1.ObjectReference, as pod volume objects name their pod.
    static func podReference(_ description: String) -> Schema {
        .object(
            description,
            [
                "kind": .string(), "namespace": .string(), "name": .string(), "uid": .string(),
                "apiVersion": .string(), "resourceVersion": .string(), "fieldPath": .string(),
            ])
    }

    /// The phases of PodVolumeBackups and PodVolumeRestores.
    static let podVolumePhase = Schema.string(
        "The phase.",
        enum: ["New", "Accepted", "Prepared", "InProgress", "Canceling", "Canceled", "Completed", "Failed"])

    /// shared.DataMoveOperationProgress.
    static let progress = Schema.object(
        "Bytes done of the total.", ["totalBytes": .integer("Bytes in all."), "bytesDone": .integer("Bytes done.")])

    /// The columns `kubectl get` shows for pod volume objects, the node read from `nodePath`.
    static func podVolumeColumns(nodePath: String) -> [Definition.Column] {
        [
            column("Status", "string", ".status.phase"),
            column("Node", "string", nodePath),
            column("Pod", "string", ".spec.pod.name"),
            column("Volume", "string", ".spec.volume"),
            column("Bytes Done", "integer", ".status.progress.bytesDone"),
        ]
    }
}
