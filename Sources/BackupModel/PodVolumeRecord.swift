/// Which pod volume a `VolumeRecord` holds, when its data was read by a node agent from the kubelet's pod directory
/// (a PodVolumeBackup) rather than from a persistent volume's path.
public struct PodVolumeSource: Codable, Sendable, Equatable {
    public var namespace: String
    public var pod: String
    public var podUID: String
    /// The pod volume's name (`spec.volumes[].name`).
    public var volume: String
    /// The node whose agent read it.
    public var node: String
    /// The PodVolumeBackup object that carried it.
    public var podVolumeBackup: String?

    public init(
        namespace: String, pod: String, podUID: String, volume: String, node: String, podVolumeBackup: String? = nil
    ) {
        self.namespace = namespace
        self.pod = pod
        self.podUID = podUID
        self.volume = volume
        self.node = node
        self.podVolumeBackup = podVolumeBackup
    }

    /// "namespace/pod/volume", as logs and warnings name it.
    public var display: String { "\(namespace)/\(pod)/\(volume)" }
}

/// What the pod volumes of a backup came to, as the server's pod-volume step reports it to the pipeline.
public struct PodVolumeOutcome: Sendable, Equatable {
    /// Chosen volumes: with a snapshot when backed up, with `skipped` (the reason) when they failed.
    public var volumes: [VolumeRecord]
    /// Volumes not chosen and why (secret, configMap, projected, downwardAPI, hostPath, pod not running…).
    public var warnings: [String]
    /// Errors besides the volumes' (a hook with onError Fail that failed); each makes the backup PartiallyFailed.
    public var errors: [String] = []
    /// The pods' backup hooks that ran.
    public var hooks: [HookRecord] = []

    public init(volumes: [VolumeRecord] = [], warnings: [String] = []) {
        self.volumes = volumes
        self.warnings = warnings
    }
}
