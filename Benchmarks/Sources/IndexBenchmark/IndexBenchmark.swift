import BenchmarkSupport
import ChunkStore
import Foundation
import SystemIO

/// glibc's malloc_trim (malloc.h, which the Glibc module does not export): returns freed heap to the system, so the
/// resident size after loading counts what the index keeps, not the decoder's freed temporaries.
@_silgen_name("malloc_trim") func mallocTrim(_ pad: Int) -> Int32

/// The in-memory index of a large store: a store whose index objects name `--chunks` chunks (default one million) in
/// packs of 3,600 entries (a 16 MiB pack of 4.5 KiB resource chunks), 50,000 entries per index object, opened cold.
/// Reports the resident memory the index adds (after the decoding's temporaries are returned to the system), the
/// time to load it, and lookups per second. The target: at most 100 MiB for a million chunks.
///
///     swift run -c release --package-path Benchmarks IndexBenchmark [--chunks 1000000]
@main
struct IndexBenchmark {
    static func residentBytes() -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int64(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    static func main() async throws {
        var chunks = 1_000_000
        var workdir = "/tmp/velero-cas-index-bench"
        var arguments = Array(CommandLine.arguments.dropFirst()).makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--chunks": chunks = Int(arguments.next() ?? "") ?? chunks
            case "--workdir": workdir = arguments.next() ?? workdir
            default: throw BenchError("unknown argument \(argument) (known: --chunks N, --workdir DIR)")
            }
        }
        try? FileSystem.removeTree(workdir)
        let store = try LocalDirectoryStore(root: workdir, create: true)
        _ = try await Repository.openOrCreate(store, config: RepositoryConfig(encryption: .none))
        log("writing index objects for \(chunks) chunks")
        var ids: [ChunkID] = []
        ids.reserveCapacity(chunks)
        var next = 0
        while next < chunks {
            var packs: [IndexFile.Pack] = []
            var entries = 0
            while entries < IndexFile.maximumEntries && next < chunks {
                let count = min(3600, chunks - next, IndexFile.maximumEntries - entries)
                var pack: [PackEntry] = []
                for index in 0..<count {
                    let id = ChunkID(hashing: withUnsafeBytes(of: UInt64(next + index)) { Array($0) })
                    ids.append(id)
                    pack.append(PackEntry(id: id, offset: UInt32(index * 4608), length: 4608))
                }
                let packID = PackID(hashing: withUnsafeBytes(of: UInt64(next)) { Array($0) + [1] })
                packs.append(
                    IndexFile.Pack(id: packID, kind: .metadata, size: UInt32(count * 4608 + 4096), entries: pack))
                next += count
                entries += count
            }
            try await store.put(IndexFile.newKey(), IndexFile.encode(packs))
        }
        let indexBytes = try await store.listAll(prefix: IndexFile.prefix).reduce(0) { $0 + $1.size }
        _ = mallocTrim(0)
        let before = residentBytes()
        let clock = ContinuousClock()
        let start = clock.now
        let repository = try await Repository.open(store)
        let loadSeconds = (clock.now - start).seconds
        _ = mallocTrim(0)
        let added = residentBytes() - before
        let lookupStart = clock.now
        var found = 0
        for id in ids where await repository.hasChunk(id) { found += 1 }
        let lookupSeconds = (clock.now - lookupStart).seconds
        guard found == chunks else { throw BenchError("only \(found) of \(chunks) chunks found in the index") }
        let perChunk = Double(added) / Double(chunks)
        print(
            """
            index of \(chunks) chunks (\(indexBytes / 1_048_576) MiB of index objects):
              resident memory added   \(String(format: "%.1f MiB", Double(added) / 1_048_576)) (\(String(format: "%.1f", perChunk)) bytes per chunk; target: 100 MiB for 1,000,000)
              load                    \(String(format: "%.2f s", loadSeconds))
              lookups                 \(String(format: "%.0f /s", Double(chunks) / lookupSeconds))
            """)
        try? FileSystem.removeTree(workdir)
    }
}
