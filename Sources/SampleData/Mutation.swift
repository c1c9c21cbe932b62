import SystemIO

extension SampleData {
    /// Changes about `fraction` of the bytes under `directory`, the way a volume changes between backups: some small
    /// files rewritten, a region overwritten in a few large files, and bytes inserted into one (which shifts
    /// everything after it, so chunk boundaries must resynchronise). Returns the number of bytes changed. Blocking.
    @discardableResult
    public func mutate(directory: String, fraction: Double) throws -> Int {
        var random = SplitMix(seed: seed &+ 1)
        var files: [(path: String, size: Int)] = []
        try collectFiles(directory, into: &files)
        files.sort { $0.path < $1.path }
        let total = files.reduce(0) { $0 + $1.size }
        var budget = Int(Double(total) * fraction)
        let originalBudget = budget
        files.shuffle(using: &random)
        let small = files.filter { $0.size <= 64 << 10 }
        let large = files.filter { $0.size >= 8 << 20 }
        // Half the budget: rewrite small files whole.
        var smallBudget = budget / 2
        for file in small where smallBudget > 0 {
            var block = [UInt8]()
            SampleData.fillRandom(&block, count: file.size, random: &random)
            try overwrite(file.path, at: 0, with: block)
            smallBudget -= file.size
            budget -= file.size
        }
        // The rest: one insertion and contiguous overwrites in large files.
        for (index, file) in large.enumerated() where budget > 0 {
            let length = min(budget, max(4096, budget / 3), file.size / 2)
            let offset = Int.random(in: 0...(file.size - length), using: &random)
            var block = [UInt8]()
            SampleData.fillRandom(&block, count: length, random: &random)
            if index == 0 {
                try insert(file.path, at: offset, bytes: Array(block.prefix(4096)))
                budget -= 4096
            } else {
                try overwrite(file.path, at: offset, with: block)
                budget -= length
            }
        }
        return originalBudget - budget
    }

    private func collectFiles(_ directory: String, into files: inout [(path: String, size: Int)]) throws {
        for name in try FileSystem.contentsOfDirectory(directory) {
            let path = directory + "/" + name
            let status = try FileSystem.status(path)
            if status.kind == .directory { try collectFiles(path, into: &files) }
            if status.kind == .regular && status.size > 0 { files.append((path, Int(status.size))) }
        }
    }

    private func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) throws {
        let file = try FileDescriptor.openForWriting(path)
        defer { file.close() }
        try bytes.withUnsafeBytes { try file.write($0, at: Int64(offset)) }
    }

    private func insert(_ path: String, at offset: Int, bytes: [UInt8]) throws {
        var content = try FileSystem.readFile(path)
        content.insert(contentsOf: bytes, at: offset)
        let file = try FileDescriptor.create(path)
        defer { file.close() }
        try content.withUnsafeBytes { try file.write($0) }
    }

    /// Differences between two trees (kinds, sizes, modes, mtimes of files, contents, link targets); empty when
    /// identical. Blocking.
    public static func compareTrees(_ left: String, _ right: String) throws -> [String] {
        var differences: [String] = []
        try compare(left, right, relative: "", into: &differences)
        return differences
    }

    private static func compare(_ left: String, _ right: String, relative: String, into differences: inout [String])
        throws
    {
        let leftNames = try FileSystem.contentsOfDirectory(left)
        let rightNames = try FileSystem.contentsOfDirectory(right)
        if leftNames != rightNames {
            differences.append("\(relative.isEmpty ? "." : relative): entries differ")
            return
        }
        for name in leftNames {
            let path = relative.isEmpty ? name : relative + "/" + name
            let a = try FileSystem.status(left + "/" + name)
            let b = try FileSystem.status(right + "/" + name)
            guard a.kind == b.kind else {
                differences.append("\(path): kind differs")
                continue
            }
            switch a.kind {
            case .directory:
                if a.mode != b.mode { differences.append("\(path): mode differs") }
                try compare(left + "/" + name, right + "/" + name, relative: path, into: &differences)
            case .symlink:
                if try FileSystem.readSymlink(left + "/" + name) != FileSystem.readSymlink(right + "/" + name) {
                    differences.append("\(path): link target differs")
                }
            case .regular:
                if a.size != b.size { differences.append("\(path): size differs") }
                if a.mode != b.mode { differences.append("\(path): mode differs") }
                if a.modificationSeconds != b.modificationSeconds
                    || a.modificationNanoseconds != b.modificationNanoseconds
                {
                    differences.append("\(path): mtime differs")
                }
                if try FileSystem.readFile(left + "/" + name) != FileSystem.readFile(right + "/" + name) {
                    differences.append("\(path): content differs")
                }
            case .other: break
            }
        }
    }
}
