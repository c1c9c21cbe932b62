import ArgumentParser
import BackupModel
import ChunkStore
import Foundation
import HTTPTransport
import SystemIO

/// `--store` or `--storage-location`: where the deduplicating store lives.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Store location: a local directory, or s3://bucket/prefix[?region=R&endpoint=URL&addressing=path|virtual&profile=P]. Overrides --storage-location.",
            discussion: "S3 credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials."))
    var store: String?
    @Option(
        help:
            "A named storage location (see 'velero-cas location'); default: the configured default, else ~/.velero-cas/store."
    )
    var storageLocation: String?
    @Option(help: "A file holding the store's password (default: VELERO_CAS_PASSWORD, then the store's key file).")
    var passwordFile: String?

    /// Where the password of an encrypted store comes from.
    var passwords: StorePasswords {
        StorePasswords(passwordFile: passwordFile, environment: ProcessInfo.processInfo.environment)
    }

    /// The location used, as recorded in backups: its name, or the --store text.
    var locationName: String {
        get throws { try store ?? StorageLocations.load().resolve(storageLocation).name }
    }

    /// The store text and the environment for its credentials.
    func resolved() throws -> (store: String, environment: [String: String]) {
        var environment = ProcessInfo.processInfo.environment
        if let store { return (store, environment) }
        let location = try StorageLocations.load().resolve(storageLocation)
        var text = location.store
        if let file = location.credentialsFile {
            environment["AWS_SHARED_CREDENTIALS_FILE"] = file
            environment["AWS_ACCESS_KEY_ID"] = nil
            environment["AWS_SECRET_ACCESS_KEY"] = nil
        }
        if let profile = location.profile, text.hasPrefix("s3://"), !text.contains("profile=") {
            text += (text.contains("?") ? "&" : "?") + "profile=\(profile)"
        }
        return (text, environment)
    }

    /// The raw store, for what must be read before (or without) opening it.
    func rawStore() async throws -> any ObjectStore { try await backend(create: false) }

    /// Opens an existing store (read commands). `lockingAhead`: see `Repository.open`.
    func openExisting(lockingAhead: String? = nil) async throws -> Repository {
        try await Repository.open(try await backend(create: false), passwords: passwords, lockingAhead: lockingAhead)
    }

    /// Opens a store of any format, including those before packs (`store migrate`).
    func openAnyFormat() async throws -> Repository {
        try await Repository.open(try await backend(create: false), passwords: passwords, legacyLayout: true)
    }

    /// Opens the store, creating it with `config` if needed (write commands). New stores are encrypted unless the
    /// config says otherwise (`store init --encryption none`). `deferringCreation` and `lockingAhead`: see
    /// `Repository.openOrCreate`.
    func openForWriting(
        config: RepositoryConfig = RepositoryConfig(encryption: .aes256gcm), deferringCreation: Bool = false,
        lockingAhead: String? = nil
    ) async throws -> Repository {
        try await Repository.openOrCreate(
            try await backend(create: true), config: config, passwords: passwords, directories: StoreLayout.withRecords,
            deferringCreation: deferringCreation, lockingAhead: lockingAhead)
    }

    /// The backend, built on the blocking pool: it reads the locations and credentials files and may create the
    /// store's directory.
    private func backend(create: Bool) async throws -> any ObjectStore {
        try await BlockingPool.shared.run {
            let (text, environment) = try resolved()
            let location = try StoreLocation(parsing: text, environment: environment)
            return try location.open(
                create: create, environment: environment, client: HTTPClient(configuration: .objectStore()))
        }
    }
}
