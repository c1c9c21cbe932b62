/// Maps volume paths as the cluster's nodes see them to where velero-cas can read them (`/var/lib/k=/mnt/node1`).
public struct VolumePathMap: Sendable, Codable, Equatable {
    public var entries: [Entry]
    public struct Entry: Sendable, Codable, Equatable {
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    public init(entries: [Entry] = []) { self.entries = entries }

    /// Parses `from=to,from2=to2` (absolute paths).
    public init(parsing text: String) throws(FilterError) {
        entries = []
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0].hasPrefix("/"), parts[1].hasPrefix("/") else {
                throw .invalid("volume path mapping '\(pair)' must be /node/path=/local/path")
            }
            entries.append(Entry(from: parts[0], to: parts[1]))
        }
    }

    /// The local path for a node path: the longest matching prefix is replaced.
    public func localPath(_ path: String) -> String {
        let match = entries.filter {
            path == $0.from || path.hasPrefix($0.from.hasSuffix("/") ? $0.from : $0.from + "/")
        }
        .max { $0.from.count < $1.from.count }
        guard let match else { return path }
        return match.to + path.dropFirst(match.from.count)
    }
}

/// One persistent volume's data in a backup.
public struct VolumeRecord: Codable, Sendable, Equatable {
    public var persistentVolume: String
    /// "namespace/name" of the bound claim.
    public var claim: String?
    /// The path the cluster's nodes use (hostPath or local).
    public var path: String
    /// The tree snapshot holding the data, when it was backed up.
    public var snapshot: String?
    public var files: Int
    public var logicalBytes: Int64
    public var newStoredBytes: Int64
    public var seconds: Double
    /// Why the data is not in the backup.
    public var skipped: String?
    /// Set when the data is a pod volume read by a node agent (then `persistentVolume` is the claim's volume, or
    /// empty, and `path` the directory on that node).
    public var podVolume: PodVolumeSource? = nil

    public init(
        persistentVolume: String, claim: String? = nil, path: String, snapshot: String? = nil, files: Int,
        logicalBytes: Int64, newStoredBytes: Int64, seconds: Double, skipped: String? = nil,
        podVolume: PodVolumeSource? = nil
    ) {
        self.persistentVolume = persistentVolume
        self.claim = claim
        self.path = path
        self.snapshot = snapshot
        self.files = files
        self.logicalBytes = logicalBytes
        self.newStoredBytes = newStoredBytes
        self.seconds = seconds
        self.skipped = skipped
        self.podVolume = podVolume
    }

    /// A volume whose data was not backed up, and why.
    public static func unreachable(persistentVolume: String, claim: String? = nil, path: String, reason: String)
        -> VolumeRecord
    {
        VolumeRecord(
            persistentVolume: persistentVolume, claim: claim, path: path, snapshot: nil, files: 0, logicalBytes: 0,
            newStoredBytes: 0, seconds: 0, skipped: reason)
    }
}
