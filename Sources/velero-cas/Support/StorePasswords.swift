import ArgumentParser
import ChunkStore
import Foundation
import SystemIO

/// Where the CLI finds an encrypted store's password, in order: `--password-file`, `VELERO_CAS_PASSWORD`, and the
/// store's key file `<config dir>/keys/<store id>.password`. A new store created without a password gets a random
/// one in its key file (mode 0600), and the CLI says where: the default local store works with no set-up.
struct StorePasswords: PasswordSource {
    var passwordFile: String?
    var environment: [String: String]

    /// The directory of generated passwords, beside the storage locations file.
    static var keysDirectory: String { Path.parent(of: StorageLocations.path) + "/keys" }

    static func keyFile(for config: RepositoryConfig) -> String { "\(keysDirectory)/\(config.id).password" }

    /// Letters, digits and '-', as the ids velero-cas makes (UUIDs).
    static func isPlainID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64
            && id.utf8.allSatisfy {
                $0 == UInt8(ascii: "-")
                    || ($0 < 128 && (Character(UnicodeScalar($0)).isLetter || Character(UnicodeScalar($0)).isNumber))
            }
    }

    func password(for config: RepositoryConfig, location: String, creating: Bool) throws -> [UInt8]? {
        if let passwordFile {
            return try Self.read(passwordFile, what: "--password-file")
        }
        if let text = environment["VELERO_CAS_PASSWORD"], !text.isEmpty { return Array(text.utf8) }
        // The id comes from the store's config: only a plain id names a key file (never a path elsewhere).
        guard Self.isPlainID(config.id) else { return nil }
        let keyFile = Self.keyFile(for: config)
        if FileManager.default.fileExists(atPath: keyFile) { return try Self.read(keyFile, what: "key file") }
        guard creating else { return nil }
        // 32 random bytes as hex: 256 bits, printable, easy to copy elsewhere.
        let generated = Array(Digest.hex(StoreCrypto.random(32)).utf8)
        try FileSystem.makeDirectories(Self.keysDirectory, mode: 0o700)
        try generated.withUnsafeBytes { try FileSystem.writeAtomically(keyFile, bytes: $0, mode: 0o600) }
        FileHandle.standardError.write(
            Data(
                "velero-cas: the new store at \(location) is encrypted; its generated password is in \(keyFile) (mode 0600). Keep a copy elsewhere: without it nothing in the store can be read.\n"
                    .utf8))
        return generated
    }

    func describe(for config: RepositoryConfig) -> String {
        if let passwordFile { return "--password-file \(passwordFile)" }
        if let text = environment["VELERO_CAS_PASSWORD"], !text.isEmpty { return "VELERO_CAS_PASSWORD" }
        return "key file \(Self.keyFile(for: config)) (or set VELERO_CAS_PASSWORD, or pass --password-file)"
    }

    /// A password file's contents without the trailing newline; an empty or unreadable one is an error.
    static func read(_ path: String, what: String) throws -> [UInt8] {
        var bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch {
            throw ValidationError("\(what) '\(path)' cannot be read: \(error)")
        }
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw ValidationError("\(what) '\(path)' is empty") }
        return bytes
    }
}
