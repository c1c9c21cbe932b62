import SystemIO

/// Generates reproducible test data that looks like a real volume: half compressible text, half random bytes, many
/// small files and a few large ones, nested directories, symlinks and empty directories. Used by the demo, the tests
/// and the benchmarks, so every figure is measured on the same kind of data.
public struct SampleData: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// Writes about `bytes` bytes of files under `directory`. Blocking.
    public func generate(into directory: String, bytes: Int) throws {
        var random = SplitMix(seed: seed)
        try FileSystem.makeDirectories(directory)
        var remaining = bytes
        var fileNumber = 0
        // About 10% of the bytes in small files (1–64 KiB), 30% medium (256 KiB–4 MiB), the rest large (8–64 MiB).
        let plan: [(share: Double, range: ClosedRange<Int>)] = [
            (0.10, 1 << 10...64 << 10), (0.30, 256 << 10...4 << 20), (0.60, 8 << 20...64 << 20),
        ]
        for (share, range) in plan {
            var budget = Int(Double(bytes) * share)
            while budget > 0 && remaining > 0 {
                let size = min(budget, remaining, Int.random(in: range, using: &random))
                let subdirectory = "\(directory)/dir-\(fileNumber % 16)/sub-\(fileNumber % 5)"
                try FileSystem.makeDirectories(subdirectory)
                let text = fileNumber % 2 == 0
                let path = "\(subdirectory)/file-\(fileNumber)" + (text ? ".txt" : ".bin")
                try writeFile(path, size: size, text: text, random: &random)
                budget -= size
                remaining -= size
                fileNumber += 1
            }
        }
        try FileSystem.makeDirectories(directory + "/empty/nested-empty")
        try FileSystem.makeSymlink(directory + "/link-to-dir", target: "dir-0")
        try FileSystem.makeSymlink(directory + "/dangling-link", target: "does/not/exist")
        try FileDescriptor.create(directory + "/empty-file").close()
    }

    private func writeFile(_ path: String, size: Int, text: Bool, random: inout SplitMix) throws {
        let file = try FileDescriptor.create(path)
        defer { file.close() }
        var written = 0
        var block = [UInt8]()
        while written < size {
            let count = min(1 << 20, size - written)
            if text {
                Self.fillText(&block, count: count, random: &random)
            } else {
                Self.fillRandom(&block, count: count, random: &random)
            }
            try block.withUnsafeBytes { try file.write($0) }
            written += count
        }
    }

    static func fillRandom(_ block: inout [UInt8], count: Int, random: inout SplitMix) {
        block = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var index = 0
            while index + 8 <= count {
                UnsafeMutableRawPointer(buffer.baseAddress! + index).storeBytes(of: random.next(), as: UInt64.self)
                index += 8
            }
            while index < count {
                buffer[index] = UInt8(truncatingIfNeeded: random.next())
                index += 1
            }
            initialized = count
        }
    }

    /// Log-like text: words from a fixed vocabulary and numbers, chosen at random (lz4 shrinks it about 2×).
    static func fillText(_ block: inout [UInt8], count: Int, random: inout SplitMix) {
        block.removeAll(keepingCapacity: true)
        block.reserveCapacity(count + 64)
        var wordsOnLine = 0
        while block.count < count {
            let value = random.next()
            let word = vocabulary[Int(value % UInt64(vocabulary.count))]
            block.append(contentsOf: word)
            if value & 0x700 == 0 { block.append(contentsOf: String(value >> 40).utf8) }
            wordsOnLine += 1
            if wordsOnLine == 12 {
                block.append(UInt8(ascii: "\n"))
                wordsOnLine = 0
            } else {
                block.append(UInt8(ascii: " "))
            }
        }
        block.removeLast(block.count - count)
    }

    static let vocabulary: [[UInt8]] = {
        let stems = [
            "pod", "node", "volume", "claim", "backup", "restore", "chunk", "store", "error", "info", "debug", "warn",
            "request", "response", "latency", "bytes", "namespace", "service", "deployment", "replica", "container",
            "image", "pull", "start", "stop", "ready", "status", "phase", "update", "create", "delete", "watch", "list",
            "get", "patch", "apply", "label", "selector", "annotation", "secret", "config", "map", "endpoint",
            "ingress",
        ]
        let suffixes = ["", "s", "ed", "ing", "-a", "-b", "_id", ".io", "=true", "=false", ":", "/v1"]
        return stems.flatMap { stem in suffixes.map { Array((stem + $0).utf8) } }
    }()
}

/// A small, fast, deterministic PRNG (splitmix64).
public struct SplitMix: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
