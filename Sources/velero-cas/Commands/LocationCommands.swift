import ArgumentParser
import ChunkStore
import Foundation

/// `backup-location`: named stores, created with velero-cas' `--store` text or Velero's provider flags.
struct BackupLocationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup-location", abstract: "Configure named storage locations (local directories or S3).",
        subcommands: [
            BackupLocationCreateCommand.self, BackupLocationGetCommand.self, BackupLocationSetCommand.self,
            BackupLocationDeleteCommand.self,
        ],
        aliases: ["location"])
}

struct BackupLocationCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Add or replace a storage location.",
        discussion: """
            Give the store either as --store (a directory, or s3://bucket/prefix?region=…&endpoint=…) or as Velero \
            does: --provider aws --bucket B [--prefix P] [--config region=R,s3Url=URL,s3ForcePathStyle=true,profile=N], \
            or --provider local --config path=/a/directory.
            """)

    @Argument(help: "The location's name.") var name: String
    @Option(help: "A directory path or s3://bucket/prefix[?region=R&endpoint=URL&addressing=path|virtual].") var store:
        String?
    @Option(help: "Velero's provider: aws (S3 and compatible stores) or local (a directory).") var provider: String?
    @Option(help: "The bucket (provider aws).") var bucket: String?
    @Option(help: "A key prefix within the bucket (provider aws).") var prefix: String?
    @Option(help: "Provider settings, k=v,… (aws: region, s3Url, s3ForcePathStyle, profile; local: path).")
    var config: String?
    @Option(help: "AWS shared credentials file for this location.") var credentialsFile: String?
    @Option(help: "Profile in the credentials file.") var profile: String?
    @Flag(help: "Make it the default location.") var `default` = false

    /// The `--store` text the location stands for.
    func storeText() throws -> String {
        if let store {
            guard provider == nil, bucket == nil, prefix == nil, config == nil else {
                throw ValidationError("--store cannot be combined with --provider, --bucket, --prefix or --config")
            }
            return store
        }
        guard let provider else { throw ValidationError("give --store, or --provider with its settings") }
        let settings = try keyValues(config, flag: "--config")
        switch provider {
        case "aws":
            guard let bucket, !bucket.isEmpty else { throw ValidationError("--provider aws needs --bucket") }
            let known = ["region", "s3Url", "s3ForcePathStyle", "profile"]
            for key in settings.keys.sorted() where !known.contains(key) {
                throw ValidationError(
                    "--config key '\(key)' is not supported for provider aws (supported: \(known.joined(separator: ", ")))"
                )
            }
            var query: [String] = []
            if let region = settings["region"] { query.append("region=\(region)") }
            if let url = settings["s3Url"] { query.append("endpoint=\(url)") }
            if let style = settings["s3ForcePathStyle"] {
                guard let path = CommandLineForms.goBool(style) else {
                    throw ValidationError("--config s3ForcePathStyle takes true or false, not '\(style)'")
                }
                query.append("addressing=\(path ? "path" : "virtual")")
            }
            if let profile = settings["profile"] { query.append("profile=\(profile)") }
            let path = [bucket, prefix.map { $0.trimmingCharacters(in: ["/"]) }].compactMap { $0 }
                .filter { !$0.isEmpty }.joined(separator: "/")
            return "s3://\(path)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        case "local":
            guard bucket == nil, prefix == nil else {
                throw ValidationError("--provider local takes --config path=DIR, not --bucket or --prefix")
            }
            guard let path = settings["path"], !path.isEmpty, settings.count == 1 else {
                throw ValidationError("--provider local needs --config path=DIR (and nothing else)")
            }
            return path
        default:
            throw ValidationError("--provider '\(provider)' is not supported (use aws or local)")
        }
    }

    func run() throws {
        try ResourceName.validate(name, what: "location name")
        let store = try storeText()
        _ = try StoreLocation(parsing: store, environment: ProcessInfo.processInfo.environment)
        var file = try StorageLocations.load()
        file.locations.removeAll { $0.name == name }
        file.locations.append(.init(name: name, store: store, credentialsFile: credentialsFile, profile: profile))
        if `default` { file.defaultLocation = name }
        try file.save()
        print("storage location \(name) → \(store)\(`default` ? " (default)" : "")")
    }
}

struct BackupLocationGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List storage locations.")

    @Argument(help: "Names to show; all when omitted.") var names: [String] = []
    @Flag(help: "Show only the default location.") var `default` = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table

    func run() throws {
        let file = try StorageLocations.load()
        var locations = file.locations.isEmpty ? [StorageLocations.builtInDefault] : file.locations
        let defaultName = try file.resolve(nil).name
        for name in names where !locations.contains(where: { $0.name == name }) {
            throw ValidationError("storage location '\(name)' is not configured")
        }
        if !names.isEmpty { locations = locations.filter { names.contains($0.name) } }
        if `default` { locations = locations.filter { $0.name == defaultName } }
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

struct BackupLocationSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a storage location: make it the default, or change its credentials.")

    @Argument(help: "The location's name.") var name: String
    @Flag(help: "Make it the default location.") var `default` = false
    @Option(help: "AWS shared credentials file for this location.") var credentialsFile: String?
    @Option(help: "Profile in the credentials file.") var profile: String?

    func run() throws {
        var file = try StorageLocations.load()
        guard let index = file.locations.firstIndex(where: { $0.name == name }) else {
            throw ValidationError("storage location '\(name)' is not configured")
        }
        guard `default` || credentialsFile != nil || profile != nil else {
            throw ValidationError("nothing to set: give --default, --credentials-file or --profile")
        }
        if `default` { file.defaultLocation = name }
        if let credentialsFile { file.locations[index].credentialsFile = credentialsFile }
        if let profile { file.locations[index].profile = profile }
        try file.save()
        print("storage location \(name) updated")
    }
}

struct BackupLocationDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Remove storage locations (their data stays).")

    @Argument(help: "The locations' names.") var names: [String] = []
    @Flag(help: "Remove every configured location.") var all = false
    @Flag(help: "Accepted for Velero compatibility; removing a location never touches its data.") var confirm = false

    func validate() throws {
        guard all != !names.isEmpty else { throw ValidationError("give location names or --all, not both or neither") }
    }

    func run() throws {
        var file = try StorageLocations.load()
        let removing = all ? file.locations.map(\.name) : names
        for name in removing where !file.locations.contains(where: { $0.name == name }) {
            throw ValidationError("storage location '\(name)' is not configured")
        }
        file.locations.removeAll { removing.contains($0.name) }
        if let current = file.defaultLocation, removing.contains(current) { file.defaultLocation = nil }
        try file.save()
        for name in removing { print("storage location \(name) removed") }
    }
}

/// `snapshot-location`: Velero's VolumeSnapshotLocations, validated and recorded on the backups that name them.
struct SnapshotLocationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot-location", abstract: "Configure volume snapshot locations (Velero compatibility).",
        discussion: """
            velero-cas keeps volume data in the backup's own storage location, deduplicated with everything else. \
            A snapshot location names where a cloud provider's volume snapshots would be taken; backups that name \
            one with --volume-snapshot-locations are checked against this list and record it.
            """,
        subcommands: [
            SnapshotLocationCreateCommand.self, SnapshotLocationGetCommand.self, SnapshotLocationDeleteCommand.self,
        ])
}

struct SnapshotLocationCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Add or replace a volume snapshot location.")

    @Argument(help: "The location's name.") var name: String
    @Option(help: "The snapshot provider, as Velero names it (e.g. aws, velero.io/aws).") var provider: String
    @Option(help: "Provider settings, k=v,…") var config: String?

    func run() throws {
        try ResourceName.validate(name, what: "snapshot location name")
        guard !provider.isEmpty, !provider.contains(where: \.isWhitespace) else {
            throw ValidationError("--provider '\(provider)' must be a provider name such as aws")
        }
        var file = try StorageLocations.load()
        file.snapshotLocations.removeAll { $0.name == name }
        file.snapshotLocations.append(
            .init(name: name, provider: provider, config: try keyValues(config, flag: "--config")))
        try file.save()
        print("volume snapshot location \(name) (\(provider)) saved")
    }
}

struct SnapshotLocationGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List volume snapshot locations.")

    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table

    func run() throws {
        let locations = try StorageLocations.load().snapshotLocations
        try output.print(locations) {
            var table = Table(header: ["NAME", "PROVIDER", "CONFIG"])
            for location in locations {
                table.rows.append([
                    location.name, location.provider,
                    location.config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                ])
            }
            print(table.render())
        }
    }
}

struct SnapshotLocationDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Remove a volume snapshot location.")

    @Argument(help: "The location's name.") var name: String
    @Flag(help: "Accepted for Velero compatibility.") var confirm = false

    func run() throws {
        var file = try StorageLocations.load()
        guard file.snapshotLocations.contains(where: { $0.name == name }) else {
            throw ValidationError("volume snapshot location '\(name)' is not configured")
        }
        file.snapshotLocations.removeAll { $0.name == name }
        try file.save()
        print("volume snapshot location \(name) removed")
    }
}
