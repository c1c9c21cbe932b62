import ArgumentParser
import ChunkStore
import Foundation
import SystemIO

/// `store key`: the passwords that open an encrypted store (restic's model: each wraps the same master key).
struct StoreKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Add, list and remove the passwords of an encrypted store.",
        subcommands: [StoreKeyAddCommand.self, StoreKeyListCommand.self, StoreKeyRemoveCommand.self])
}

/// An encrypted store's config, keys, and the key the current password opens.
struct OpenedKeys {
    var config: RepositoryConfig
    var store: any ObjectStore
    var keys: [StoreKey]
    var master: MasterKey
    var currentID: String

    static func open(_ options: StoreOptions) async throws -> OpenedKeys {
        let store = try await options.rawStore()
        let config = try await Repository.readConfig(store)
        guard config.isEncrypted else {
            throw ValidationError("the store at \(store.location) is not encrypted; it has no keys")
        }
        let passwords = options.passwords
        guard let password = try passwords.password(for: config, location: store.location, creating: false) else {
            throw ChunkStoreError.passwordRequired(
                store: store.location, reason: "no password found in \(passwords.describe(for: config))")
        }
        let keys = try await StoreKey.all(in: store).filter { $0.store == config.id }
        let (master, id) = try Repository.openMasterKey(
            keys, password: password, store: store, source: passwords.describe(for: config))
        return OpenedKeys(config: config, store: store, keys: keys, master: master, currentID: id)
    }
}

struct StoreKeyAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a password (the current one, from the usual places, must open the store).")

    @Option(help: "A file holding the new password (default: VELERO_CAS_NEW_PASSWORD).") var newPasswordFile: String?
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let newPassword: [UInt8]
        if let newPasswordFile {
            newPassword = try StorePasswords.read(newPasswordFile, what: "--new-password-file")
        } else if let text = ProcessInfo.processInfo.environment["VELERO_CAS_NEW_PASSWORD"], !text.isEmpty {
            newPassword = Array(text.utf8)
        } else {
            throw ValidationError("give the new password with --new-password-file or VELERO_CAS_NEW_PASSWORD")
        }
        let opened = try await OpenedKeys.open(storeOptions)
        let key = try StoreKey.make(
            master: opened.master, password: newPassword, store: opened.config.id, host: await HostName.current())
        try await opened.store.put(StoreKey.key(key.id), try StoreJSON.encode(key))
        try await opened.store.sync()
        print("key \(key.id) added to \(opened.store.location)")
    }
}

struct StoreKeyListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the store's keys.")

    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    struct Row: Codable {
        var id: String
        var current: Bool
        var created: Date
        var host: String
        var username: String
        var kdf: String
    }

    func run() async throws {
        try global.bootstrapLogging()
        let opened = try await OpenedKeys.open(storeOptions)
        let rows = opened.keys.map {
            Row(
                id: $0.id, current: $0.id == opened.currentID, created: $0.created, host: $0.host,
                username: $0.username,
                kdf: "\($0.kdf) N=\($0.scrypt.n) r=\($0.scrypt.r) p=\($0.scrypt.p)")
        }
        try output.print(rows) {
            var table = Table(header: ["ID", "CURRENT", "CREATED", "HOST", "USER", "KDF"])
            for row in rows {
                table.rows.append([
                    row.id, row.current ? "*" : "", Format.date(row.created), row.host, row.username, row.kdf,
                ])
            }
            print(table.render())
        }
    }
}

struct StoreKeyRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a password (never the one in use, never the last).")

    @Argument(help: "The key's id (see 'store key list').") var id: String
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let opened = try await OpenedKeys.open(storeOptions)
        guard opened.keys.contains(where: { $0.id == id }) else {
            throw ValidationError("key '\(id)' is not a key of \(opened.store.location) (see 'store key list')")
        }
        guard id != opened.currentID else {
            throw ValidationError(
                "key '\(id)' is the one your password opens; remove it using another key's password")
        }
        try await opened.store.delete(StoreKey.key(id))
        try await opened.store.sync()
        print("key \(id) removed from \(opened.store.location)")
    }
}
