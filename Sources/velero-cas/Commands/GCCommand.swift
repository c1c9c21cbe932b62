import ArgumentParser
import ChunkStore
import Foundation
import GarbageCollector

struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Expire backups past their TTL and delete the chunks nothing references any more.",
        discussion: "Safe beside running backups: it waits for their locks. A crashed run is finished by the next one.")

    @Flag(help: "Also delete chunks no backup or snapshot references (left by crashed backups); reads the whole store.")
    var orphans = false
    @Flag(help: "Rebuild the reference lists and counts from the manifests first.") var rebuildCounts = false
    @Option(help: "How long to wait for running backups to finish, in seconds.") var waitSeconds = 60
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (0...86400).contains(waitSeconds) else {
            throw ValidationError("--wait-seconds must be between 0 and 86400")
        }
    }

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openExisting()
        let result = try await GarbageCollector(repository: repository).run(
            orphans: orphans, rebuildCounts: rebuildCounts, lockWait: .seconds(waitSeconds))
        try output.print(result) { GCCommand.printSummary(result) }
    }

    static func printSummary(_ result: GarbageCollector.Result) {
        print("expired: \(result.expired.isEmpty ? "nothing" : result.expired.joined(separator: ", "))")
        print(
            "freed: \(result.deletedChunks) chunks, \(Format.bytes(result.deletedBytes))\(result.orphans > 0 ? " (\(result.orphans) orphans)" : "")"
        )
        if !result.discarded.isEmpty {
            print("discarded (never committed): \(result.discarded.joined(separator: ", "))")
        }
    }
}
