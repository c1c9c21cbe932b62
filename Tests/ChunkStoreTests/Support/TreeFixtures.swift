import ChunkStore
import SampleData
import SystemIO
import TestSupport

/// Source trees and stores for the tree backup tests. Blocking work runs on the blocking pool, as in production.
enum TreeFixtures {
    /// A file and a directory whose modes the sample data would not otherwise exercise.
    static let privateFile = "dir-0/sub-0/file-0.txt"
    static let privateDirectory = "dir-0"

    /// About 3 MB of sample volume data, with one file at 0600 and one directory at 0700.
    static func sampleTree(at path: String, seed: UInt64 = 7) async throws {
        try await BlockingPool.shared.run {
            try SampleData(seed: seed).generate(into: path, bytes: 3 << 20)
            try FileSystem.setMode(path + "/" + privateFile, mode: 0o600)
            try FileSystem.setMode(path + "/" + privateDirectory, mode: 0o700)
        }
    }

    /// A tiny tree: two files and a subdirectory.
    static func smallTree(at path: String) throws {
        try FileSystem.makeDirectories(path + "/sub")
        try Array("hello\n".utf8).withUnsafeBytes { try FileSystem.writeAtomically(path + "/a.txt", bytes: $0) }
        try TestData.random(count: 10_000, seed: 1).withUnsafeBytes {
            try FileSystem.writeAtomically(path + "/sub/b.bin", bytes: $0)
        }
    }

    static func differences(_ left: String, _ right: String) async throws -> [String] {
        try await BlockingPool.shared.run { try SampleData.compareTrees(left, right) }
    }

    static func repository(at path: String) async throws -> Repository {
        try await Repository.openOrCreate(LocalDirectoryStore(root: path, create: true))
    }
}
