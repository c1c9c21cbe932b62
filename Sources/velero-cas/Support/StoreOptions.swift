import ArgumentParser
import ChunkStore
import Foundation
import HTTPTransport

/// `--store`: where the deduplicated store lives.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Store location: a local directory, or s3://bucket/prefix[?region=R&endpoint=URL&addressing=path|virtual&profile=P].",
            discussion: "S3 credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials."))
    var store: String

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Opens an existing store (read commands).
    func openExisting() async throws -> Repository {
        let location = try StoreLocation(parsing: store, environment: environment)
        return try await Repository.open(
            try location.open(create: false, environment: environment, client: HTTPClient()))
    }

    /// Opens the store, creating it if needed (write commands).
    func openForWriting() async throws -> Repository {
        let location = try StoreLocation(parsing: store, environment: environment)
        return try await Repository.openOrCreate(
            try location.open(create: true, environment: environment, client: HTTPClient()))
    }
}
