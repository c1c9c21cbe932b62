import ArgumentParser
import ChunkStore
import Collectors
import Foundation
import GarbageCollector

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check the store: every chunk a backup or snapshot references exists (and with --read-data is intact); report orphans."
    )

    @Flag(help: "Also read every referenced chunk, decompress it and check its hash.") var readData = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openExisting()
        var report = try await StoreVerifier(repository: repository).verify(readData: readData)
        // Reference counts must match a recount of the reference lists.
        for chunk in try await GarbageCollector(repository: repository).countMismatches() {
            report.damage.append(
                .init(
                    chunk: chunk, problem: "reference count does not match the reference lists (run 'velero-cas gc')",
                    affected: []))
        }
        try output.print(report) {
            print(
                "\(report.snapshots) snapshots and \(report.resourceManifests) backups reference \(report.referencedChunks) chunks; the store holds \(report.storedChunks) (\(Format.bytes(report.storedBytes)))\(report.checkedData ? ", all read and checked" : "")"
            )
            print(
                "orphaned: \(report.orphanedChunks) chunks, \(Format.bytes(report.orphanedBytes)) (referenced by nothing; garbage collection frees them)"
            )
            if !report.damage.isEmpty {
                var table = Table(header: ["CHUNK", "PROBLEM", "AFFECTED"])
                for damage in report.damage {
                    table.rows.append([damage.chunk, damage.problem, damage.affected.joined(separator: ", ")])
                }
                print(table.render())
            }
        }
        guard report.isClean else {
            let affected = Set(report.damage.flatMap(\.affected)).sorted()
            throw ValidationError(
                "the store is damaged: \(report.damage.count) problems affecting \(affected.joined(separator: ", "))")
        }
    }
}
