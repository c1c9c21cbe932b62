import ArgumentParser
import BackupModel
import ChunkStore
import Collectors
import Foundation
import SystemIO

struct BackupDownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Write a backup's objects to a Velero-format tarball.",
        discussion: """
            The tarball is a gzip-compressed POSIX ustar archive in Velero's backup format 1.1.0: each object at \
            resources/<resource.group>/namespaces/<namespace>/<name>.json (resources/<resource.group>/cluster/<name>.json \
            for cluster-scoped ones) and again under resources/<resource.group>/<version>-preferredversion/…, \
            and metadata/version. Tools that read Velero's tarballs read it.
            """)

    @Argument(help: "The backup to download.") var name: String
    @Option(
        name: [.short, .customLong("output"), .customLong("output-file")],
        help: "Where to write the tarball (default: <name>-data.tar.gz in the current directory).")
    var outputFile: String?
    @Flag(help: "Overwrite the output file if it already exists.") var force = false
    @OptionGroup var server: ThroughServerOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        try ResourceName.validate(name, what: "backup name")
        let path = outputFile ?? "\(name)-data.tar.gz"
        guard !path.isEmpty else { throw ValidationError("-o/--output must name a file, not ''") }
        if let session = try await server.session(store: storeOptions.store) {
            return try await downloadThroughServer(session, to: path)
        }
        let repository = try await storeOptions.openExisting()
        guard let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) else {
            throw ValidationError("backup '\(name)' not found in \(repository.store.location)")
        }
        guard record.phase.isRestorable else {
            throw ValidationError(
                "backup '\(name)' is \(record.phase.rawValue); only Completed or PartiallyFailed backups can be downloaded"
            )
        }
        guard let manifestName = record.resourceManifest else {
            throw ValidationError("backup '\(name)' has no resource manifest; there is nothing to download")
        }
        if !force, FileManager.default.fileExists(atPath: path) {
            throw ValidationError("'\(path)' already exists; use --force to overwrite it")
        }
        let reader = ResourceReader(repository: repository)
        let manifest = try await reader.manifest(named: manifestName)
        let summary: BackupTarball.Summary
        do {
            summary = try await BackupTarball.write(manifest, reader: reader, to: path, overwrite: force)
        } catch let error as BackupTarballError {
            throw ValidationError(error.description)
        }
        print(
            "backup \(name) downloaded to \(path): \(summary.objects) objects, \(Format.bytes(summary.fileBytes)) (\(Format.bytes(summary.bytes)) uncompressed)"
        )
    }

    /// The tarball as the server serves it (made from the store by the server), written as it came.
    private func downloadThroughServer(_ session: ServerSession, to path: String) async throws {
        if !force, FileManager.default.fileExists(atPath: path) {
            throw ValidationError("'\(path)' already exists; use --force to overwrite it")
        }
        let tarball = try await session.fetch(.backupContents, name)
        try await BlockingPool.shared.run {
            try Array(tarball).withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0, mode: 0o644) }
        }
        print("backup \(name) downloaded to \(path) through the server: \(Format.bytes(Int64(tarball.count)))")
    }
}
