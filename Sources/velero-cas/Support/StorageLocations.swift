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

    var defaultLocation: String?
    var locations: [Location] = []

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
                "storage location '\(name)' is not configured (see 'velero-cas location get'; file \(Self.path))")
        }
        if let defaultName = defaultLocation { return try resolve(defaultName) }
        return locations.first { $0.name == "default" } ?? Self.builtInDefault
    }
}

struct LocationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "location", abstract: "Configure named storage locations (local directories or S3).",
        subcommands: [LocationCreateCommand.self, LocationGetCommand.self, LocationDeleteCommand.self])
}

struct LocationCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Add or replace a storage location.")

    @Argument(help: "The location's name.") var name: String
    @Option(help: "A directory path or s3://bucket/prefix[?region=R&endpoint=URL&addressing=path|virtual].") var store:
        String
    @Option(help: "AWS shared credentials file for this location.") var credentialsFile: String?
    @Option(help: "Profile in the credentials file.") var profile: String?
    @Flag(help: "Make it the default location.") var `default` = false

    func run() throws {
        try ResourceName.validate(name, what: "location name")
        _ = try StoreLocation(parsing: store, environment: ProcessInfo.processInfo.environment)
        var file = try StorageLocations.load()
        file.locations.removeAll { $0.name == name }
        file.locations.append(.init(name: name, store: store, credentialsFile: credentialsFile, profile: profile))
        if `default` { file.defaultLocation = name }
        try file.save()
        print("storage location \(name) → \(store)\(`default` ? " (default)" : "")")
    }
}

struct LocationGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List storage locations.")

    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table

    func run() throws {
        let file = try StorageLocations.load()
        let locations = file.locations.isEmpty ? [StorageLocations.builtInDefault] : file.locations
        let defaultName = try file.resolve(nil).name
        try output.print(locations) {
            var table = Table(header: ["NAME", "STORE", "DEFAULT", "CREDENTIALS"])
            for location in locations {
                table.rows.append([
                    location.name, location.store, location.name == defaultName ? "yes" : "",
                    location.credentialsFile.map { "\($0)\(location.profile.map { " [\($0)]" } ?? "")" }
                        ?? "environment",
                ])
            }
            print(table.render())
        }
    }
}

struct LocationDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Remove a storage location (its data stays).")

    @Argument(help: "The location's name.") var name: String

    func run() throws {
        var file = try StorageLocations.load()
        guard file.locations.contains(where: { $0.name == name }) else {
            throw ValidationError("storage location '\(name)' is not configured")
        }
        file.locations.removeAll { $0.name == name }
        if file.defaultLocation == name { file.defaultLocation = nil }
        try file.save()
        print("storage location \(name) removed")
    }
}
