import ChunkStore
import Foundation
import Synchronization
import SystemIO

/// The machine's own ceiling for the work a backup or restore must do, measured on the same bytes in the same run.
/// In an encrypted store (the default) the work per chunk is: keyed id (HMAC-SHA-256), lz4, AES-256-GCM; in a plain
/// one (`master` nil): SHA-256 and lz4.
enum MachineLimit {
    /// The per-chunk work of a backup into an encrypted store: keyed id, compression, sealing.
    static func encode(_ block: [UInt8], master: MasterKey?) -> [UInt8] {
        let id = ChunkID(hashing: block, key: master?.chunkIDs)
        return PackLayout.blob(of: block, id: id, key: master?.encryption)
    }

    /// One pack file of the store and where its chunks lie in it.
    struct PackFile: Sendable {
        var path: String
        var chunks: [(id: ChunkID, range: Range<Int>)]
    }

    /// The per-chunk work of a restore: open, decompress, verify the keyed id.
    static func decode(_ sealed: [UInt8], id: ChunkID, master: MasterKey?) throws -> [UInt8] {
        guard let opened = PackLayout.openBlob(sealed, id: id, key: master?.encryption) else {
            throw BenchmarkError("chunk \(id) does not open with the store's key")
        }
        return try ChunkCodec.decode(opened, id: id, key: "benchmark", idKey: master?.chunkIDs)
    }

    /// Every chunk of one pack's bytes, decoded.
    static func decode(pack bytes: [UInt8], _ file: PackFile, master: MasterKey?) throws -> [[UInt8]] {
        try file.chunks.map { try decode(Array(bytes[$0.range]), id: $0.id, master: master) }
    }

    /// Keyed hash + lz4 compression + AES-256-GCM of every file's bytes in 1 MiB blocks, on all cores. Files are read
    /// into memory 64 MiB at a time outside the timed part, so only that work is measured.
    static func hashAndCompress(files: [String], cores: Int, master: MasterKey?) async throws -> Double {
        try await measure(files: files, cores: cores, wholeFiles: false) { block in _ = encode(block, master: master) }
    }

    /// Content-defined chunking with the store's volume profile, then the keyed hash, compression and sealing of
    /// each chunk, on all cores: the "chunk + hash + compress" limit, all the CPU work a backup into an encrypted
    /// store must do per byte. Files are held in memory (read outside the timed part), each one a unit of work.
    static func chunkHashAndCompress(files: [String], cores: Int, master: MasterKey?) async throws -> Double {
        let chunker = ContentDefinedChunker(profile: .volume)
        return try await measure(files: files, cores: cores, wholeFiles: true) { file in
            file.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let cut = chunker.nextCut(in: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    let chunk = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + cut])
                    let id = master.map { ChunkID(hashing: chunk, key: $0.chunkIDs) } ?? ChunkID(hashing: chunk)
                    _ = PackLayout.blob(of: chunk, id: id, key: master?.encryption)
                    offset += cut
                }
            }
        }
    }

    /// The same work with the file I/O a local store cannot avoid: read each file in 1 MiB blocks, hash, compress,
    /// and write the compressed block to a scratch file (no fsync), files spread over all cores. No chunking, dedup or
    /// pipeline: the floor of what any local-store backup costs here.
    static func readHashCompressWrite(files: [String], scratch: String, cores: Int, master: MasterKey?) async throws
        -> Double
    {
        try FileSystem.makeDirectories(scratch)
        let clock = ContinuousClock()
        let start = clock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<cores {
                group.addTask {
                    try await BlockingPool.shared.run {
                        var bytes = 0
                        let output = try FileDescriptor.create(scratch + "/worker-\(worker)")
                        defer { output.close() }
                        var block = [UInt8](repeating: 0, count: 1 << 20)
                        for index in stride(from: worker, to: files.count, by: cores) {
                            let input = try FileDescriptor.openForReading(files[index])
                            defer { input.close() }
                            while true {
                                let count = try block.withUnsafeMutableBytes { try input.readFully(into: $0) }
                                if count == 0 { break }
                                let encoded = encode(Array(block[..<count]), master: master)
                                try encoded.withUnsafeBytes { try output.write($0) }
                                bytes += count
                                if count < block.count { break }
                            }
                        }
                        return bytes
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        try FileSystem.removeTree(scratch)
        return Double(total) / elapsed.seconds
    }

    /// The restore-side floor: read each chunk object, decompress and verify it, write the plain bytes to a scratch
    /// file, spread over all cores; with `durable`, each file is fsynced before the clock stops (a restore that must
    /// be on disk before it reports done, as the node agent's).
    static func readDecodeWrite(
        packs: [PackFile], scratch: String, cores: Int, master: MasterKey?, durable: Bool = false
    ) async throws -> Double {
        try FileSystem.makeDirectories(scratch)
        let clock = ContinuousClock()
        let start = clock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<cores {
                group.addTask {
                    try await BlockingPool.shared.run {
                        var bytes = 0
                        let output = try FileDescriptor.create(scratch + "/worker-\(worker)")
                        defer { output.close() }
                        for index in stride(from: worker, to: packs.count, by: cores) {
                            let pack = try FileSystem.readFile(packs[index].path)
                            for plain in try decode(pack: pack, packs[index], master: master) {
                                try plain.withUnsafeBytes { try output.write($0) }
                                bytes += plain.count
                            }
                        }
                        if durable { try output.sync() }
                        return bytes
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        try FileSystem.removeTree(scratch)
        return Double(total) / elapsed.seconds
    }

    /// AES-256-GCM opening, lz4 decompression and keyed-id verification of every stored chunk (what a restore
    /// must do per chunk); packs are read into memory outside the timed part.
    static func decodeAndVerify(packs: [PackFile], cores: Int, master: MasterKey?) async throws -> Double {
        var stored: [(PackFile, [UInt8])] = []
        var elapsed: Duration = .zero
        var plainBytes: Int64 = 0
        var held = 0
        func flush() async throws {
            let batch = stored
            stored.removeAll()
            let clock = ContinuousClock()
            let start = clock.now
            let produced = try await withThrowingTaskGroup(of: Int64.self) { group in
                for worker in 0..<cores {
                    group.addTask {
                        var total: Int64 = 0
                        for index in stride(from: worker, to: batch.count, by: cores) {
                            let (file, bytes) = batch[index]
                            total += try decode(pack: bytes, file, master: master).reduce(0) { $0 + Int64($1.count) }
                        }
                        return total
                    }
                }
                return try await group.reduce(0, +)
            }
            elapsed += clock.now - start
            plainBytes += produced
            held = 0
        }
        for file in packs {
            let object = try FileSystem.readFile(file.path)
            held += object.count
            stored.append((file, object))
            if held > 64 << 20 { try await flush() }
        }
        try await flush()
        return Double(plainBytes) / elapsed.seconds
    }

    /// Runs `work` over the files' bytes on all cores, timing only the work: in 1 MiB blocks, or (`wholeFiles`)
    /// each file whole.
    private static func measure(
        files: [String], cores: Int, wholeFiles: Bool, work: @escaping @Sendable ([UInt8]) -> Void
    ) async throws -> Double {
        var elapsed: Duration = .zero
        var total = 0
        var blocks: [[UInt8]] = []
        var held = 0
        func flush() async {
            let batch = blocks
            blocks.removeAll()
            let clock = ContinuousClock()
            let start = clock.now
            // Workers take the next unit as they finish one: whole files differ in size, so a fixed split would
            // leave a core idle.
            let next = WorkIndex()
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<cores {
                    group.addTask {
                        while case let index = next.take(), index < batch.count { work(batch[index]) }
                    }
                }
            }
            elapsed += clock.now - start
        }
        for path in files {
            let bytes = try FileSystem.readFile(path)
            total += bytes.count
            var offset = 0
            let unit = wholeFiles ? max(bytes.count, 1) : 1 << 20
            while offset < bytes.count {
                let end = min(offset + unit, bytes.count)
                blocks.append(Array(bytes[offset..<end]))
                held += end - offset
                offset = end
            }
            if held > 64 << 20 {
                await flush()
                held = 0
            }
        }
        await flush()
        return Double(total) / elapsed.seconds
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The next unit of work to take, shared by the workers of one measurement.
final class WorkIndex: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}
