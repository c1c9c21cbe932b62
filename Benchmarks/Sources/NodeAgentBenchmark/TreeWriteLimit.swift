import ChunkStore
import Foundation
import SystemIO

/// The restore's floor for one tree: what any restore of these very files must do, with no pipeline, no store, no
/// Kubernetes and perfect load balance. Every directory is made; every file is created, filled with bytes decoded
/// from the store's packs (AES-256-GCM open + lz4 + keyed-id verify of each chunk, as many decoded bytes as the file
/// holds, so duplicated data costs its decoding again, as in a restore), fsynced and closed; then every directory is
/// fsynced. Files and directories are taken by workers as they finish the last one: four per core, since a file's
/// fsync waits for the disk and the other workers' decoding should go on meanwhile (as the restore's many files in
/// flight do).
///
/// Why the tree and not a stream into one file per core: a volume is hundreds of small files for each large one, and
/// on this VM's file system (ext4 without a journal) creating an inode costs more than decoding its bytes when many
/// inodes were deleted in the last minutes (`recently_deleted` in the allocator). A floor that writes one file per
/// core leaves that out and so moves with the machine's recent history; this one pays it as the restore does.
enum TreeWriteLimit {
    /// A tree's directories (parents first) and files with their sizes, relative to its root.
    struct Shape: Sendable {
        var directories: [String] = []
        var files: [(path: String, size: Int)] = []
        var bytes: Int { files.reduce(0) { $0 + $1.size } }
    }

    /// The shape of the tree under each of `roots`, each as a subdirectory named by its index.
    static func shape(of roots: [String]) throws -> Shape {
        var shape = Shape()
        for (index, root) in roots.enumerated() {
            shape.directories.append("\(index)")
            try walk(root, relative: "\(index)", into: &shape)
        }
        return shape
    }

    private static func walk(_ directory: String, relative: String, into shape: inout Shape) throws {
        for name in try FileSystem.contentsOfDirectory(directory).sorted() {
            let path = directory + "/" + name
            let status = try FileSystem.status(path)
            switch status.kind {
            case .directory:
                shape.directories.append(relative + "/" + name)
                try walk(path, relative: relative + "/" + name, into: &shape)
            case .regular: shape.files.append((relative + "/" + name, Int(status.size)))
            default: break
            }
        }
    }

    /// Writes `shape` under `target` (which must not exist) as described above; returns file bytes per second.
    static func measure(
        shape: Shape, packs: [MachineLimit.PackFile], into target: String, cores: Int, master: MasterKey?
    ) async throws -> Double {
        guard !packs.isEmpty else { throw BenchmarkError("the store has no packs to decode") }
        try FileSystem.makeDirectory(target)
        let clock = ContinuousClock()
        let start = clock.now
        let workers = cores * 4
        let files = WorkIndex()
        let directories = WorkIndex()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Each volume's directories by one worker, parents first; the volumes in parallel.
            let volumes = Dictionary(grouping: shape.directories) { $0.prefix { $0 != "/" } }.values.map {
                $0.sorted { $0.count < $1.count }
            }
            let nextVolume = WorkIndex()
            for _ in 0..<workers {
                group.addTask {
                    try await BlockingPool.shared.run {
                        while case let index = nextVolume.take(), index < volumes.count {
                            for directory in volumes[index] { try FileSystem.makeDirectory(target + "/" + directory) }
                        }
                    }
                }
            }
            try await group.waitForAll()
            for worker in 0..<workers {
                group.addTask {
                    try await BlockingPool.shared.run {
                        var source = DecodedBytes(packs: packs, first: worker, step: workers, master: master)
                        while case let index = files.take(), index < shape.files.count {
                            let (path, size) = shape.files[index]
                            let file = try FileDescriptor.create(target + "/" + path, mode: 0o600, exclusive: true)
                            defer { file.close() }
                            var offset = 0
                            while offset < size {
                                let piece = try source.next(atMost: size - offset)
                                try piece.withUnsafeBytes { try file.write($0, at: Int64(offset)) }
                                offset += piece.count
                            }
                            try file.sync()
                        }
                    }
                }
            }
            try await group.waitForAll()
            for _ in 0..<workers {
                group.addTask {
                    try await BlockingPool.shared.run {
                        while case let index = directories.take(), index < shape.directories.count {
                            try FileSystem.syncDirectory(target + "/" + shape.directories[index])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        try FileSystem.syncDirectory(target)
        return Double(shape.bytes) / (clock.now - start).seconds
    }

    /// Decoded chunk bytes from every `step`-th pack starting at `first`, round and round: each chunk is read (its
    /// range of the pack, as a restore reads it) and decoded when the bytes before it are used up.
    private struct DecodedBytes {
        let packs: [MachineLimit.PackFile]
        let mine: [Int]
        let master: MasterKey?
        var pack = -1
        var chunk = 0
        var plain: ArraySlice<UInt8> = []

        init(packs: [MachineLimit.PackFile], first: Int, step: Int, master: MasterKey?) {
            self.packs = packs
            let own = Array(stride(from: first % packs.count, to: packs.count, by: step))
            self.mine = own.isEmpty ? [0] : own
            self.master = master
        }

        mutating func next(atMost count: Int) throws -> ArraySlice<UInt8> {
            while plain.isEmpty {
                if pack < 0 || chunk == packs[mine[pack]].chunks.count {
                    pack = (pack + 1) % mine.count
                    chunk = 0
                }
                let file = packs[mine[pack]]
                let (id, range) = file.chunks[chunk]
                chunk += 1
                let sealed = try FileSystem.readRange(file.path, offset: Int64(range.lowerBound), length: range.count)
                plain = try MachineLimit.decode(sealed, id: id, master: master)[...]
            }
            let piece = plain.prefix(count)
            plain = plain.dropFirst(piece.count)
            return piece
        }
    }
}
