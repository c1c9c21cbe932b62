import ArgumentParser
import ChunkStore
import Foundation
import SampleData
import SystemIO

/// The README's main job on the embedded default: a local directory store and generated data.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Back up generated data into a local store twice (showing dedup), restore it, and verify every byte.")

    @Option(help: "Working directory for the data, the store and the restore (removed first).")
    var workdir: String = "/tmp/velero-cas-demo"
    @Option(help: "Megabytes of data to generate.") var megabytes: Int = 256
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...65536).contains(megabytes) else { throw ValidationError("--megabytes must be between 1 and 65536") }
    }

    func run() async throws {
        try global.bootstrapLogging()
        let source = workdir + "/data"
        let storePath = workdir + "/store"
        let target = workdir + "/restored"
        try FileSystem.removeTree(workdir)
        try FileSystem.makeDirectories(source)
        print("generating \(megabytes) MB of sample data (text and random, small and large files) in \(source)")
        let generator = SampleData(seed: 42)
        try await BlockingPool.shared.run { try generator.generate(into: source, bytes: megabytes << 20) }

        let repository = try await Repository.openOrCreate(try LocalDirectoryStore(root: storePath, create: true))
        var table = Table(header: ["STEP", "LOGICAL", "NEW (STORED)", "DEDUP", "TIME", "SPEED"])
        func backup(_ name: String) async throws {
            let snapshot = try await TreeBackup(repository: repository).run(source: source, name: name)
            let summary = snapshot.summary
            table.rows.append([
                "backup \(name)", Format.bytes(summary.logicalBytes), Format.bytes(summary.newStoredBytes),
                Format.ratio(
                    summary.newStoredBytes == 0
                        ? .infinity : Double(summary.logicalBytes) / Double(summary.newStoredBytes)),
                Format.seconds(summary.seconds), Format.rate(summary.logicalBytes, seconds: summary.seconds),
            ])
        }
        try await backup("first")
        print("changing about 1% of the data")
        try await BlockingPool.shared.run { try generator.mutate(directory: source, fraction: 0.01) }
        try await backup("second")
        try await backup("unchanged")

        let restored = try await TreeRestore(repository: repository).run(snapshot: "unchanged", into: target)
        table.rows.append([
            "restore unchanged", Format.bytes(restored.bytes), "-", "-", Format.seconds(restored.seconds),
            Format.rate(restored.bytes, seconds: restored.seconds),
        ])
        let mismatches = try await BlockingPool.shared.run { try SampleData.compareTrees(source, target) }
        print(table.render())
        guard mismatches.isEmpty else {
            throw ValidationError("restore differs from the source: \(mismatches.prefix(5).joined(separator: ", "))")
        }
        print("verified: the restored tree is byte-identical to the source (store: \(storePath))")
    }
}
