import Foundation
import SystemIO
import TestSupport
import Testing

/// Encrypted stores through the CLI: on by default with a generated password, other passwords, keys.
@Suite("velero-cas encrypted stores")
struct EncryptionCommandTests {
    @Test("a new store is encrypted with a generated password the CLI reports; wrong or missing passwords are named")
    func generatedPassword() async throws {
        let temp = try TemporaryDirectory("cli-enc")
        defer { temp.remove() }
        let environment = ["VELERO_CAS_CONFIG": temp.sub("config/locations.yaml")]
        try FileSystem.makeDirectory(temp.sub("data"))
        let secret = "hunter2-\(UUID().uuidString)"
        try Array(String(repeating: "db-password=\(secret)\n", count: 100).utf8).withUnsafeBytes {
            try FileSystem.writeAtomically(temp.sub("data/app.env"), bytes: $0)
        }
        let store = ["--store", temp.sub("store")]
        let created = try await CLIRunner.run(
            ["store", "backup-dir", temp.sub("data"), "--name", "one"] + store, environment: environment)
        #expect(created.status == 0, "\(created.errors)")
        let config =
            try JSONSerialization.jsonObject(
                with: Data(try FileSystem.readFile(temp.sub("store/config")))) as? [String: Any]
        let id = try #require(config?["id"] as? String)
        #expect(config?["encryption"] as? String == "aes-256-gcm")
        let keyFile = temp.sub("config/keys/\(id).password")
        #expect(created.errors.contains("is encrypted; its generated password is in \(keyFile)"), "\(created.errors)")
        #expect(try FileSystem.status(keyFile).mode & 0o777 == 0o600)
        // The secret is nowhere in the store's files.
        for path in try FileManager.default.subpathsOfDirectory(atPath: temp.sub("store")) {
            let full = temp.sub("store/\(path)")
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            #expect(String(decoding: try FileSystem.readFile(full), as: UTF8.self).range(of: secret) == nil, "\(path)")
        }

        let again = try await CLIRunner.run(["store", "snapshots", "-o", "json"] + store, environment: environment)
        #expect(again.status == 0 && again.output.contains("\"one\""), "\(again.errors)")
        let wrong = try await CLIRunner.run(
            ["store", "snapshots"] + store, environment: environment.merging(["VELERO_CAS_PASSWORD": "nope"]) { $1 })
        #expect(wrong.status != 0)
        #expect(wrong.errors.contains("opens with the password from VELERO_CAS_PASSWORD"), "\(wrong.errors)")
        #expect(!wrong.errors.contains("Usage:"), "a runtime failure is not a usage error")
        let password = try FileSystem.readFile(keyFile)
        try password.withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("pw"), bytes: $0) }
        try FileSystem.removeFile(keyFile)
        let missing = try await CLIRunner.run(["store", "snapshots"] + store, environment: environment)
        #expect(missing.status != 0 && missing.errors.contains("is encrypted: no password found in key file"))
        let viaFile = try await CLIRunner.run(
            ["store", "restore-dir", "one", temp.sub("out"), "--password-file", temp.sub("pw")] + store,
            environment: environment)
        #expect(viaFile.status == 0, "\(viaFile.errors)")
        #expect(try FileSystem.readFile(temp.sub("out/app.env")) == FileSystem.readFile(temp.sub("data/app.env")))
        try FileSystem.writeAtomically(temp.sub("empty"), bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        let empty = try await CLIRunner.run(
            ["store", "snapshots", "--password-file", temp.sub("empty")] + store, environment: environment)
        #expect(empty.status != 0 && empty.errors.contains("--password-file '\(temp.sub("empty"))' is empty"))
    }

    @Test("store key add, list and remove; the key in use cannot be removed")
    func keys() async throws {
        let temp = try TemporaryDirectory("cli-keys")
        defer { temp.remove() }
        let environment = ["VELERO_CAS_CONFIG": temp.sub("locations.yaml"), "VELERO_CAS_PASSWORD": "first password"]
        let store = ["--store", temp.sub("store")]
        #expect(try await CLIRunner.run(["store", "init"] + store, environment: environment).status == 0)
        let noNew = try await CLIRunner.run(["store", "key", "add"] + store, environment: environment)
        #expect(noNew.status != 0 && noNew.errors.contains("VELERO_CAS_NEW_PASSWORD"))
        let added = try await CLIRunner.run(
            ["store", "key", "add"] + store,
            environment: environment.merging(["VELERO_CAS_NEW_PASSWORD": "second password"]) { $1 })
        #expect(added.status == 0, "\(added.errors)")
        func keys(_ password: String) async throws -> [[String: Any]] {
            let listed = try await CLIRunner.run(
                ["store", "key", "list", "-o", "json"] + store,
                environment: environment.merging(["VELERO_CAS_PASSWORD": password]) { $1 })
            #expect(listed.status == 0, "\(listed.errors)")
            return try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]] ?? []
        }
        let viaFirst = try await keys("first password")
        #expect(viaFirst.count == 2)
        let firstID = try #require(viaFirst.first { $0["current"] as? Bool == true }?["id"] as? String)
        let viaSecond = try await keys("second password")
        let secondID = try #require(viaSecond.first { $0["current"] as? Bool == true }?["id"] as? String)
        #expect(firstID != secondID)
        let refused = try await CLIRunner.run(["store", "key", "remove", firstID] + store, environment: environment)
        #expect(refused.status != 0 && refused.errors.contains("is the one your password opens"))
        let removed = try await CLIRunner.run(
            ["store", "key", "remove", firstID] + store,
            environment: environment.merging(["VELERO_CAS_PASSWORD": "second password"]) { $1 })
        #expect(removed.status == 0, "\(removed.errors)")
        let gone = try await CLIRunner.run(["store", "key", "list"] + store, environment: environment)
        #expect(gone.status != 0 && gone.errors.contains("no key of the store"))
        await #expect(try keys("second password").count == 1)
    }

    @Test("an unencrypted store is an explicit choice; bad --encryption values are named")
    func plainStore() async throws {
        let temp = try TemporaryDirectory("cli-plain")
        defer { temp.remove() }
        let environment = ["VELERO_CAS_CONFIG": temp.sub("locations.yaml")]
        let store = ["--store", temp.sub("store")]
        let bad = try await CLIRunner.run(["store", "init", "--encryption", "rot13"] + store, environment: environment)
        #expect(bad.status != 0 && bad.errors.contains("--encryption 'rot13' must be aes-256-gcm or none"))
        let created = try await CLIRunner.run(
            ["store", "init", "--encryption", "none"] + store, environment: environment)
        #expect(created.status == 0 && created.output.contains("not encrypted"), "\(created.output)")
        #expect(!created.errors.contains("password"))
        try FileSystem.makeDirectory(temp.sub("data"))
        try Array("plain".utf8).withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("data/f"), bytes: $0) }
        #expect(
            try await CLIRunner.run(
                ["store", "backup-dir", temp.sub("data"), "--name", "p"] + store, environment: environment
            )
            .status == 0)
        // Records are plain JSON.
        let record = try JSONSerialization.jsonObject(
            with: Data(try FileSystem.readFile(temp.sub("store/snapshots/p.json"))))
        #expect((record as? [String: Any])?["name"] as? String == "p")
        let keys = try await CLIRunner.run(["store", "key", "list"] + store, environment: environment)
        #expect(keys.status != 0 && keys.errors.contains("is not encrypted"))
    }
}
