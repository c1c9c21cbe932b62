import Collectors
import Foundation
import HTTPTransport
import KubeClient
import TestSupport
import Testing
import VeleroAPI
import VeleroServer

@Suite(
    "DownloadRequest for an S3 location (moto)", .serialized,
    .enabled(if: MotoEnvironment.isAvailable, "needs scripts/with-moto.sh"))
struct S3DownloadTests {
    @Test("an S3 location answers with a presigned URL that a plain HTTP client fetches without credentials")
    func presignedDownload() async throws {
        let http = HTTPClient()
        let bucket = try await MotoBucket.create("download", client: http)
        let moto = MotoBucket.environment
        try await ServerHarness.with { harness in
            try await harness.applyCloudCredentials(moto)
            var location = BackupStorageLocation(
                name: "s3", namespace: "velero",
                spec: .init(
                    provider: "aws",
                    config: ["region": "us-east-1", "s3Url": moto.endpoint, "s3ForcePathStyle": "true"],
                    objectStorage: .init(bucket: bucket, prefix: "cluster-a")))
            location.spec.credential = .init(name: "cloud-credentials", key: "cloud")
            try await harness.create(location)
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest(
                        "to-s3", namespace: harness.namespaces[0], extraSpec: #","storageLocation":"s3""#),
                    to: Backup.resource, namespace: "velero")
                #expect(try await harness.finishedBackup("to-s3").phase == .completed)
                let available = try await harness.waitFor("the S3 location to be Available") {
                    try await harness.location("s3").status.flatMap {
                        $0.phase == .available && $0.message?.isEmpty != false ? $0 : nil
                    }
                }
                #expect(available.message?.isEmpty != false, "\(String(describing: available.message))")

                let request = try await DownloadRequestTests.download(harness, .backupLog, "to-s3")
                let url = try #require(request.status?.downloadURL, "\(String(describing: request.status))")
                #expect(url.hasPrefix(moto.endpoint + "/" + bucket + "/cluster-a/downloads/"), "\(url)")
                #expect(url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=600"))
                let response = try await http.execute(HTTPRequest(method: .get, url: url))
                #expect(response.status == 200, "\(response.text)")
                let log = String(decoding: try Gunzip.decompress(response.body), as: UTF8.self)
                #expect(log.contains("backup to-s3"), "\(log)")
                // The URL is the credential: altered, it no longer works.
                let altered = url.replacingOccurrences(of: "-logs.gz", with: "-logs.gz2")
                #expect(try await http.execute(HTTPRequest(method: .get, url: altered)).status == 403)
            }
        }
    }
}

extension ServerHarness {
    /// moto's keys as Velero's `cloud-credentials` Secret (AWS INI format under `cloud`), for an aws location's
    /// `spec.credential`.
    func applyCloudCredentials(_ moto: MotoEnvironment) async throws {
        let ini = "[default]\naws_access_key_id=\(moto.accessKey)\naws_secret_access_key=\(moto.secretKey)\n"
        try await apply(
            """
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"cloud-credentials","namespace":"velero"},\
            "data":{"cloud":"\(Data(ini.utf8).base64EncodedString())"}}
            """,
            to: APIResource(group: "", version: "v1", name: "secrets", kind: "Secret", namespaced: true),
            namespace: "velero")
    }
}
