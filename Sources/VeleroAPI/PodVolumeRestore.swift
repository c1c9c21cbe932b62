import Foundation
import KubeClient

/// Velero's PodVolumeRestore: one volume of one restored pod, written from a pod volume snapshot by the node agent of
/// the node the new pod runs on. The server creates one per pod volume of the backup once the restored pod exists;
/// the agent waits for the kubelet to set up the pod's volume directory, writes the data, then the done file
/// `.velero/<restore uid>` that releases the pod's `restore-wait` init container.
public struct PodVolumeRestore: VeleroKind, Equatable {
    public static let kind = "PodVolumeRestore"
    public static let plural = "podvolumerestores"

    /// Velero's PodVolumeRestorePhase values (the same as a PodVolumeBackup's); velero-cas uses New, Accepted (the
    /// agent of the pod's node took it and waits for the volume directory), InProgress, Completed and Failed.
    public typealias Phase = PodVolumeBackup.Phase
    public typealias PodReference = PodVolumeBackup.PodReference
    public typealias Progress = PodVolumeBackup.Progress

    public struct Spec: Codable, Sendable, Equatable {
        /// The restored pod (its new uid): the agent of the node it is scheduled on handles the object.
        public var pod: PodReference
        /// The pod volume's name (`spec.volumes[].name`).
        public var volume: String
        public var backupStorageLocation: String
        /// The snapshot holding the volume's data in the location's store.
        public var snapshotID: String
        /// The pod's namespace at backup time (it differs from `pod.namespace` under a namespace mapping).
        public var sourceNamespace: String?
        /// Accepted for Velero compatibility; velero-cas reads the location's content-addressed store.
        public var repoIdentifier: String?
        /// Accepted for Velero compatibility (kopia, restic); velero-cas has one uploader.
        public var uploaderType: String?
        public var uploaderSettings: [String: String]?
        public var cancel: Bool?
        /// The snapshot's size in bytes, when known.
        public var snapshotSize: Int64?

        public init(pod: PodReference, volume: String, backupStorageLocation: String, snapshotID: String) {
            self.pod = pod
            self.volume = volume
            self.backupStorageLocation = backupStorageLocation
            self.snapshotID = snapshotID
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: Phase?
        /// Why it failed, or what the agent waits for.
        public var message: String?
        public var startTimestamp: Date?
        public var completionTimestamp: Date?
        public var acceptedTimestamp: Date?
        public var progress: Progress?
        /// The node whose agent took the object.
        public var node: String?
        public init(phase: Phase? = nil) { self.phase = phase }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = PodVolumeRestore.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    /// The phase; an object without one is New.
    public var phase: Phase { status?.phase ?? .new }

    /// Velero's label naming the restore's uid on its PodVolumeRestores (the done file is named after it).
    public static let restoreUIDLabel = "velero.io/restore-uid"
    /// Velero's label naming the restored pod's uid.
    public static let podUIDLabel = "velero.io/pod-uid"
    /// velero-cas's own, on a restore of a hostPath or local persistent volume (with
    /// `PodVolumeBackup.hostPathAnnotation` naming the path): the node whose agent writes it, and whether data
    /// already there may be overwritten ("true").
    public static let nodeAnnotation = "velero-cas.io/node"
    public static let overwriteAnnotation = "velero-cas.io/overwrite"
}

extension VeleroCRDs {
    public static let podVolumeRestore = definition(
        kind: "PodVolumeRestore", plural: "podvolumerestores",
        description: "One pod volume's data, restored by the node agent of the restored pod's node.",
        spec: .object(
            "Which volume of which pod, and where its data comes from.",
            [
                "pod": podReference("The restored pod."),
                "volume": .string("The pod volume's name."),
                "backupStorageLocation": .string("The storage location holding the data."),
                "snapshotID": .string("The snapshot holding the data."),
                "sourceNamespace": .string("The pod's namespace at backup time."),
                "repoIdentifier": .string("Velero's repository identifier (accepted, unused)."),
                "uploaderType": .string("Velero's uploader (accepted, unused)."),
                "uploaderSettings": .stringMap("Uploader settings (accepted, unused)."),
                "cancel": .boolean("Asks the agent to stop."),
                "snapshotSize": .integer("The snapshot's size in bytes."),
            ], required: ["pod", "volume", "backupStorageLocation", "snapshotID"]),
        status: .object(
            "How the volume's restore went.",
            [
                "phase": podVolumePhase,
                "message": .string("Why it failed, or what the agent waits for."),
                "startTimestamp": .time("When the agent started writing."),
                "completionTimestamp": .time("When the agent finished."),
                "acceptedTimestamp": .time("When the agent of the pod's node took it."),
                "node": .string("The node whose agent took it."),
                "progress": progress,
            ]),
        columns: podVolumeColumns(nodePath: ".status.node"))
}
