import Foundation
import SystemIO
import TestSupport
import Testing

@Suite("velero-cas store init and unlock")
struct StoreAdminCommandTests {
    @Test("store init records the stale threshold in the store; bad values and an existing store are refused")
    func initialize() async throws {
        let temp = try TemporaryDirectory("cli-init")
        defer { temp.remove() }
        let store = ["--store", temp.sub("store")]
        for bad in ["soon", "0", "5x"] {
            let result = try await CLIRunner.run(["store", "init", "--lock-stale-after", bad] + store)
            #expect(result.status != 0)
            #expect(result.errors.contains("--lock-stale-after") && result.errors.contains(bad), "\(result.errors)")
        }
        #expect(try FileSystem.statusIfExists(temp.sub("store/config")) == nil, "a refused init writes nothing")
        let created = try await CLIRunner.run(["store", "init", "--lock-stale-after", "90s"] + store)
        #expect(created.status == 0, "\(created.errors)")
        let config = try JSONSerialization.jsonObject(with: Data(try FileSystem.readFile(temp.sub("store/config"))))
        #expect((config as? [String: Any])?["lockStaleSeconds"] as? Int == 90)
        let again = try await CLIRunner.run(["store", "init"] + store)
        #expect(again.status != 0 && again.errors.contains("already exists"), "\(again.errors)")
    }

    @Test("store unlock lists locks, says which are stale, removes stale ones and named ones, refuses unknown ids")
    func unlock() async throws {
        let temp = try TemporaryDirectory("cli-unlock")
        defer { temp.remove() }
        let store = ["--store", temp.sub("store")]
        #expect(try await CLIRunner.run(["store", "init", "--lock-stale-after", "60s"] + store).status == 0)
        try FileSystem.makeDirectories(temp.sub("store/locks"))
        func lock(_ id: String, ageSeconds: Int64) throws {
            let record =
                #"{"kind":"shared","id":"\#(id)","host":"h","pid":1,"operation":"backup \#(id)","refreshed":"2026-01-01T00:00:00Z","sequence":3}"#
            let path = temp.sub("store/locks/shared-\(id).json")
            try Array(record.utf8).withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0) }
            try FileSystem.setModificationTime(
                path, seconds: Int64(Date().timeIntervalSince1970) - ageSeconds, nanoseconds: 0)
        }
        try lock("old", ageSeconds: 3600)
        try lock("fresh", ageSeconds: 0)
        let listed = try await CLIRunner.run(["store", "unlock", "-o", "json"] + store)
        #expect(listed.status == 0, "\(listed.errors)")
        let rows = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]] ?? []
        let stale = Dictionary(uniqueKeysWithValues: rows.map { ($0["id"] as? String ?? "", $0["stale"] as? Bool) })
        #expect(stale == ["old": true, "fresh": false])

        #expect(try await CLIRunner.run(["store", "unlock", "--remove-stale"] + store).status == 0)
        #expect(try FileSystem.contentsOfDirectory(temp.sub("store/locks")) == ["shared-fresh.json"])
        let unknown = try await CLIRunner.run(["store", "unlock", "nobody"] + store)
        #expect(unknown.status != 0 && unknown.errors.contains("'nobody'"), "\(unknown.errors)")
        #expect(try await CLIRunner.run(["store", "unlock", "fresh"] + store).status == 0)
        #expect(try FileSystem.contentsOfDirectory(temp.sub("store/locks")) == [])
    }

    @Test("an unreadable locations file is an error naming it, never a silent fall-back to the default store")
    func unreadableLocations() async throws {
        let temp = try TemporaryDirectory("cli-locations")
        defer { temp.remove() }
        try FileSystem.makeDirectories(temp.sub("locations.yaml"))  // a directory cannot be read as a file
        let result = try await CLIRunner.run(
            ["store", "snapshots"], environment: ["VELERO_CAS_CONFIG": temp.sub("locations.yaml"), "HOME": temp.path])
        #expect(result.status != 0)
        #expect(
            result.errors.contains(temp.sub("locations.yaml")) && result.errors.contains("cannot be read"),
            "\(result.errors)")
    }
}
