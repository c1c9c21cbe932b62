import ChunkStore
import Foundation
import SystemIO

/// The machine's own ceiling for the work a backup or restore must do, measured on the same bytes in the same run.
enum MachineLimit {
    /// SHA-256 + lz4 compression of every file's bytes in 1 MiB blocks, on all cores. Files are read into memory
    /// 64 MiB at a time outside the timed part, so only hashing and compression are measured.
    static func hashAndCompress(files: [String], cores: Int) async throws -> Double {
        try await measure(files: files, cores: cores) { block in
            _ = ChunkID(hashing: block)
            _ = ChunkCodec.encode(block)
        }
    }

    /// The same work with the file I/O a local store cannot avoid: read each file in 1 MiB blocks, hash, compress,
    /// and write the compressed block to a scratch file (no fsync), files spread over all cores. No chunking, dedup or
    /// pipeline: the floor of what any local-store backup costs here.
    static func readHashCompressWrite(files: [String], scratch: String, cores: Int) async throws -> Double {
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
                                let piece = Array(block[..<count])
                                _ = ChunkID(hashing: piece)
                                let encoded = ChunkCodec.encode(piece)
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
    /// file (no fsync), spread over all cores.
    static func readDecodeWrite(chunkFiles: [String], scratch: String, cores: Int) async throws -> Double {
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
                        for index in stride(from: worker, to: chunkFiles.count, by: cores) {
                            guard let id = ChunkID(hex: chunkFiles[index].split(separator: "/").last ?? "") else {
                                continue
                            }
                            let plain = try ChunkCodec.decode(
                                try FileSystem.readFile(chunkFiles[index]), id: id, key: "floor")
                            try plain.withUnsafeBytes { try output.write($0) }
                            bytes += plain.count
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

    /// lz4 decompression + SHA-256 verification of every stored chunk object (what a restore must do per chunk).
    static func decodeAndVerify(chunkFiles: [String], cores: Int) async throws -> Double {
        var stored: [(ChunkID, [UInt8])] = []
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
                            let (id, object) = batch[index]
                            total += Int64(try ChunkCodec.decode(object, id: id, key: "benchmark").count)
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
        for path in chunkFiles {
            guard let id = ChunkID(hex: path.split(separator: "/").last ?? "") else { continue }
            let object = try FileSystem.readFile(path)
            held += object.count
            stored.append((id, object))
            if held > 64 << 20 { try await flush() }
        }
        try await flush()
        return Double(plainBytes) / elapsed.seconds
    }

    private static func measure(files: [String], cores: Int, work: @escaping @Sendable ([UInt8]) -> Void) async throws
        -> Double
    {
        var elapsed: Duration = .zero
        var total = 0
        var blocks: [[UInt8]] = []
        var held = 0
        func flush() async {
            let batch = blocks
            blocks.removeAll()
            let clock = ContinuousClock()
            let start = clock.now
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<cores {
                    group.addTask {
                        for index in stride(from: worker, to: batch.count, by: cores) { work(batch[index]) }
                    }
                }
            }
            elapsed += clock.now - start
        }
        for path in files {
            let bytes = try FileSystem.readFile(path)
            total += bytes.count
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + (1 << 20), bytes.count)
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
