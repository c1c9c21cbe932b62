import Foundation
import SampleData
import TestSupport
import Testing

@Suite("velero-cas store commands")
struct StoreCommandTests {
    @Test("backup-dir then restore-dir round-trips a tree byte for byte, and -o json is machine-readable")
    func roundTrip() async throws {
        let temp = try TemporaryDirectory("cli-roundtrip")
        defer { temp.remove() }
        try SampleData(seed: 3).generate(into: temp.sub("data"), bytes: 2 << 20)
        let backup = try await CLIRunner.run([
            "store", "backup-dir", temp.sub("data"), "--store", temp.sub("store"), "--name", "one", "-o", "json",
        ])
        #expect(backup.status == 0, "\(backup.errors)")
        let json = try JSONSerialization.jsonObject(with: Data(backup.output.utf8)) as? [String: Any]
        #expect(json?["name"] as? String == "one")

        let again = try await CLIRunner.run([
            "store", "backup-dir", temp.sub("data"), "--store", temp.sub("store"), "--name", "two", "-o", "yaml",
        ])
        #expect(again.status == 0, "\(again.errors)")
        #expect(again.output.contains("newStoredBytes: 0"), "an unchanged tree stores nothing new: \(again.output)")

        let restore = try await CLIRunner.run([
            "store", "restore-dir", "two", temp.sub("restored"), "--store", temp.sub("store"),
        ])
        #expect(restore.status == 0, "\(restore.errors)")
        #expect(try SampleData.compareTrees(temp.sub("data"), temp.sub("restored")) == [])

        let list = try await CLIRunner.run(["store", "snapshots", "--store", temp.sub("store")])
        #expect(list.status == 0)
        #expect(list.output.contains("one") && list.output.contains("two") && list.output.contains("NAME"))
        let stats = try await CLIRunner.run(["store", "stats", "--store", temp.sub("store"), "-o", "json"])
        let statsJSON = try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any]
        #expect(statsJSON?["snapshots"] as? Int == 2)
    }

    @Test("restore into a non-empty target is refused without --overwrite, and the target is left alone")
    func nonEmptyTarget() async throws {
        let temp = try TemporaryDirectory("cli-nonempty")
        defer { temp.remove() }
        try SampleData(seed: 4).generate(into: temp.sub("data"), bytes: 256 << 10)
        #expect(
            try await CLIRunner.run([
                "store", "backup-dir", temp.sub("data"), "--store", temp.sub("store"), "--name", "s",
            ])
            .status == 0)
        try FileManager.default.createDirectory(atPath: temp.sub("target"), withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: temp.sub("target/precious.txt")))
        let refused = try await CLIRunner.run([
            "store", "restore-dir", "s", temp.sub("target"), "--store", temp.sub("store"),
        ])
        #expect(refused.status != 0)
        #expect(refused.errors.contains("not empty") && refused.errors.contains("--overwrite"))
        #expect(try String(contentsOfFile: temp.sub("target/precious.txt"), encoding: .utf8) == "keep me")
        let forced = try await CLIRunner.run([
            "store", "restore-dir", "s", temp.sub("target"), "--store", temp.sub("store"), "--overwrite",
        ])
        #expect(forced.status == 0, "\(forced.errors)")
    }

    @Test(
        "bad input gets a clear message and a non-zero exit",
        arguments: [
            (["store", "backup-dir", "/nonexistent/source", "--store", "STORE"], "cannot read '/nonexistent/source'"),
            (
                ["store", "restore-dir", "x", "/tmp/t", "--store", "/nonexistent/store"],
                "no velero-cas store at /nonexistent/store"
            ),
            (["store", "stats", "--store", "/nonexistent/store"], "no velero-cas store"),
            (["store", "stats", "--store", "gs://bucket"], "unsupported scheme"),
            (["store", "stats", "--store", "s3://"], "no bucket name"),
            (["store", "stats", "--store", "s3://Bad_Bucket"], "bucket name"),
            (["store", "stats", "--store", "s3://bucket?color=blue"], "unknown option 'color'"),
            (["store", "backup-dir", "/tmp", "--store", "STORE", "--name", "Not_Valid"], "invalid name 'Not_Valid'"),
            (["store", "restore-dir", "missing", "/tmp/t2", "--store", "STORE"], "snapshot 'missing' not found"),
            (["store", "stats", "--store", "STORE", "--log-level", "loud"], "unknown --log-level 'loud'"),
            (["demo", "--megabytes", "0"], "--megabytes must be between"),
            (["gc", "--store", "/nonexistent/store"], "no velero-cas store"),
            (["store", "forget", "seed", "--store", "STORE"], "needs --confirm"),
            (["store", "forget", "nope", "--confirm", "--store", "STORE"], "snapshot 'nope' not found"),
        ])
    func badInput(arguments: [String], message: String) async throws {
        let temp = try TemporaryDirectory("cli-bad")
        defer { temp.remove() }
        // A real, initialised store for the cases that need one.
        #expect(
            try await CLIRunner.run(["store", "backup-dir", temp.path, "--store", temp.sub("store"), "--name", "seed"])
                .status
                == 0)
        let result = try await CLIRunner.run(arguments.map { $0 == "STORE" ? temp.sub("store") : $0 })
        #expect(result.status != 0)
        #expect(result.errors.contains(message), "stderr was: \(result.errors)")
    }

    @Test(
        "S3 with a wrong secret or a missing bucket fails with a clear message",
        .enabled(if: ProcessInfo.processInfo.environment["VELERO_CAS_TEST_S3_ENDPOINT"] != nil))
    func s3Errors() async throws {
        let environment = ProcessInfo.processInfo.environment
        let endpoint = environment["VELERO_CAS_TEST_S3_ENDPOINT"]!
        let good = [
            "AWS_ACCESS_KEY_ID": environment["VELERO_CAS_TEST_S3_ACCESS_KEY"]!,
            "AWS_SECRET_ACCESS_KEY": environment["VELERO_CAS_TEST_S3_SECRET_KEY"]!,
        ]
        var wrong = good
        wrong["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let missing = try await CLIRunner.run(
            ["store", "stats", "--store", "s3://no-such-bucket-cli?endpoint=\(endpoint)"], environment: good)
        #expect(missing.status != 0)
        #expect(missing.errors.contains("bucket 'no-such-bucket-cli' does not exist"), "\(missing.errors)")
        let denied = try await CLIRunner.run(
            ["store", "stats", "--store", "s3://no-such-bucket-cli?endpoint=\(endpoint)"], environment: wrong)
        #expect(denied.status != 0)
        #expect(denied.errors.contains("secret access key does not match"), "\(denied.errors)")
        let noCredentials = try await CLIRunner.run(
            ["store", "stats", "--store", "s3://some-bucket?endpoint=\(endpoint)"],
            environment: [
                "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "HOME": "/nonexistent", "AWS_PROFILE": "nobody",
            ])
        #expect(noCredentials.status != 0)
        #expect(noCredentials.errors.contains("profile 'nobody'"), "\(noCredentials.errors)")
    }

    @Test(
        "the demo (the README's main job) backs up a served cluster, restores a lost namespace and verifies it",
        arguments: [[], ["--local"]])
    func demo(mode: [String]) async throws {
        let temp = try TemporaryDirectory("cli-demo")
        defer { temp.remove() }
        let result = try await CLIRunner.run(
            ["demo", "--megabytes", "4", "--namespaces", "3", "--workdir", temp.sub("demo")] + mode)
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("volume is byte-identical"))
        #expect(result.output.contains("restore shop") && result.output.contains("backup demo-1"))
        #expect(result.output.contains("delete demo-1") && result.output.contains("verify --read-data is clean"))
        // Served by a kube-sim child process, stopped at the end.
        let kubeSim = try #require(DemoClusterTests.kubeSimPID(result.output), "\(result.output)")
        #expect(await DemoClusterTests.gone(kubeSim, within: .seconds(20)))
        if mode.isEmpty {
            // Through the server: every step is a Velero object the server processed.
            // Installed as `install` installs (the Deployment too), the server run in its place.
            #expect(result.output.contains("1 Deployment") && result.output.contains("1 Secret"), "\(result.output)")
            #expect(result.output.contains("velero-cas server runs against the cluster"), "\(result.output)")
            #expect(result.output.contains("own log through a DownloadRequest"), "\(result.output)")
            let scheduled = try Regex(#"schedule demo made backup demo-\d{14} "#)
            #expect(result.output.contains(scheduled), "\(result.output)")
            #expect(result.output.contains("deleted demo-1 through the server"))
        } else {
            #expect(result.output.contains("backup demo-2 ") && !result.output.contains("velero-cas server"))
        }
    }
}
