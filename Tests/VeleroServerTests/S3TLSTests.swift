import Foundation
import HTTPTransport
import KubeClient
import TestSupport
import Testing
import VeleroAPI
import VeleroServer

/// An S3 endpoint behind a private CA (MinIO and on-premises stores usually are): `objectStorage.caCert` makes the
/// server trust it, `config.insecureSkipTLSVerify` turns the check off, and without either the location is
/// Unavailable with a TLS error. The endpoint is moto behind `scripts/latency_proxy.py --tls-cert`, with a CA and a
/// certificate for 127.0.0.1 made by `openssl` for the test.
@Suite(
    "S3 locations over TLS with a private CA (moto)", .serialized,
    .enabled(if: MotoEnvironment.isAvailable, "needs scripts/with-moto.sh"))
struct S3TLSTests {
    /// A CA, and a certificate it signed for IP 127.0.0.1; returns the CA's PEM and the server's certificate and key
    /// files.
    static func certificates(in directory: String) async throws -> (caPEM: String, certificate: String, key: String) {
        let openssl = "/usr/bin/openssl"
        func run(_ arguments: [String]) async throws {
            let result = try await BuiltProducts.run(openssl, arguments, directory: directory)
            guard result.status == 0 else { throw TLSFixtureError(message: "openssl \(arguments): \(result.errors)") }
        }
        try "subjectAltName = IP:127.0.0.1\n".write(toFile: directory + "/san.cnf", atomically: true, encoding: .utf8)
        try await run([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=velero-cas test CA",
        ])
        try await run([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
            "/CN=127.0.0.1",
        ])
        try await run([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "server.pem", "-days", "2", "-extfile", "san.cnf",
        ])
        let caPEM = try String(contentsOfFile: directory + "/ca.pem", encoding: .utf8)
        return (caPEM, directory + "/server.pem", directory + "/server.key")
    }

    struct TLSFixtureError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The repository's `scripts/latency_proxy.py`, serving HTTPS in front of `upstream` until `body` returns.
    static func withTLSProxy<T>(
        upstream: String, certificate: String, key: String, _ body: (String) async throws -> T
    ) async throws -> T {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/latency_proxy.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script, "--upstream", upstream, "--tls-cert", certificate, "--tls-key", key,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            // SIGKILL: a child of the test process may inherit a signal mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        // The proxy prints its URL once it listens; read on a thread of its own, not on the cooperative pool.
        let url = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            Thread.detachNewThread {
                var line = Data()
                while let byte = try? output.fileHandleForReading.read(upToCount: 1), let first = byte.first,
                    first != UInt8(ascii: "\n")
                {
                    line.append(first)
                }
                let text = String(decoding: line, as: UTF8.self)
                if text.hasPrefix("https://") {
                    continuation.resume(returning: text)
                } else {
                    continuation.resume(throwing: TLSFixtureError(message: "the TLS proxy did not start: '\(text)'"))
                }
            }
        }
        return try await body(url)
    }

    @Test("caCert makes a private CA's endpoint trusted; without it the location is Unavailable; insecureSkipTLSVerify")
    func privateCertificateAuthority() async throws {
        let http = HTTPClient()
        let bucket = try await MotoBucket.create("tls", client: http)
        let moto = MotoBucket.environment
        let temp = try TemporaryDirectory("s3-tls")
        defer { temp.remove() }
        let (caPEM, certificate, key) = try await Self.certificates(in: temp.path)
        try await Self.withTLSProxy(upstream: moto.endpoint, certificate: certificate, key: key) { endpoint in
            try await ServerHarness.with { harness in
                try await harness.applyCloudCredentials(moto)
                func location(_ name: String, caCert: String?, config extra: [String: String] = [:])
                    -> BackupStorageLocation
                {
                    var location = BackupStorageLocation(
                        name: name, namespace: "velero",
                        spec: .init(
                            provider: "aws",
                            config: ["region": "us-east-1", "s3Url": endpoint, "s3ForcePathStyle": "true"]
                                .merging(extra) { $1 },
                            objectStorage: .init(bucket: bucket, prefix: name)))
                    location.spec.objectStorage?.caCert = caCert
                    location.spec.credential = .init(name: "cloud-credentials", key: "cloud")
                    return location
                }
                try await harness.create(location("trusted", caCert: Data(caPEM.utf8).base64EncodedString()))
                try await harness.create(location("untrusted", caCert: nil))
                try await harness.create(
                    location("unchecked", caCert: nil, config: ["insecureSkipTLSVerify": "true"]))
                try await harness.create(location("typo", caCert: nil, config: ["insecureSkipTLSVerify": "yes"]))
                try await harness.withServer {
                    try await harness.apply(
                        harness.backupManifest(
                            "over-tls", namespace: harness.namespaces[0], extraSpec: #","storageLocation":"trusted""#),
                        to: Backup.resource, namespace: "velero")
                    // The location's only endpoint is the TLS proxy: the backup went through it.
                    #expect(try await harness.finishedBackup("over-tls").phase == .completed)

                    func phase(_ name: String) async throws -> BackupStorageLocation.Status {
                        try await harness.waitFor("location \(name) to be validated") {
                            try await harness.location(name).status.flatMap { $0.phase == nil ? nil : $0 }
                        }
                    }
                    #expect(try await phase("trusted").phase == .available)
                    #expect(try await phase("unchecked").phase == .available)
                    let untrusted = try await phase("untrusted")
                    #expect(untrusted.phase == .unavailable)
                    #expect(untrusted.message?.contains("TLS") == true, "\(String(describing: untrusted.message))")
                    let typo = try await phase("typo")
                    #expect(typo.phase == .unavailable)
                    #expect(
                        typo.message?.contains("config.insecureSkipTLSVerify 'yes'") == true,
                        "\(String(describing: typo.message))")
                }
            }
        }
    }
}
