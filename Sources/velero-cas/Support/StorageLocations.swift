import ArgumentParser
import ChunkStore
import Foundation
import SystemIO
import Yams

/// Named storage locations, kept in `$VELERO_CAS_CONFIG` or ~/.config/velero-cas/locations.yaml.
struct StorageLocations: Codable, Equatable {
    struct Location: Codable, Equatable {
        var name: String
        /// A directory path or s3://bucket/prefix?region=…&endpoint=…
        var store: String
        /// A shared AWS credentials file for this location.
        var credentialsFile: String?
        /// The profile in that file.
        var profile: String?
    }

    /// Where a backup's cloud volume snapshots would be taken (Velero's VolumeSnapshotLocation). velero-cas keeps
    /// volume data in the backup's own storage location, deduplicated; snapshot locations are validated and
    /// recorded on the backups that name them, so scripts written for Velero keep working.
    struct SnapshotLocation: Codable, Equatable {
        var name: String
        var provider: String
        var config: [String: String] = [:]
    }

    var defaultLocation: String?
    var locations: [Location] = []
    var snapshotLocations: [SnapshotLocation] = []

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        defaultLocation = try container.decodeIfPresent(String.self, forKey: .defaultLocation)
        locations = try container.decodeIfPresent([Location].self, forKey: .locations) ?? []
        snapshotLocations = try container.decodeIfPresent([SnapshotLocation].self, forKey: .snapshotLocations) ?? []
    }

    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["VELERO_CAS_CONFIG"], !path.isEmpty { return path }
        return (environment["HOME"] ?? "/root") + "/.config/velero-cas/locations.yaml"
    }

    /// The built-in default when nothing is configured: a local directory store.
    static var builtInDefault: Location {
        Location(
            name: "default", store: (ProcessInfo.processInfo.environment["HOME"] ?? "/root") + "/.velero-cas/store")
    }

    static func load() throws -> StorageLocations {
        // Only a missing file means "nothing configured": one that cannot be read is an error, never a silent
        // fall-back to another store.
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path)
        } catch  where error.isNotFound {
            return StorageLocations()
        } catch {
            throw ValidationError("storage locations file \(path) cannot be read: \(error)")
        }
        do {
            return try YAMLDecoder().decode(StorageLocations.self, from: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw ValidationError("storage locations file \(path) does not parse: \(error)")
        }
    }

    func save() throws {
        let text = try YAMLEncoder().encode(self)
        try FileSystem.makeDirectories(Path.parent(of: Self.path))
        try Array(text.utf8).withUnsafeBytes { try FileSystem.writeAtomically(Self.path, bytes: $0, mode: 0o600) }
    }

    /// The named location, or the configured default, or the built-in default.
    func resolve(_ name: String?) throws -> Location {
        if let name {
            if let location = locations.first(where: { $0.name == name }) { return location }
            if name == "default" && defaultLocation == nil { return Self.builtInDefault }
            throw ValidationError(
                "storage location '\(name)' is not configured (see 'velero-cas backup-location get'; file \(Self.path))"
            )
        }
        if let defaultName = defaultLocation { return try resolve(defaultName) }
        return locations.first { $0.name == "default" } ?? Self.builtInDefault
    }
}
