import BackupModel
import Foundation
import SampleData
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore
@testable import Collectors
@testable import GarbageCollector

/// Small trees drawn from a pool of shared blobs, so that snapshots of different variants share chunks.
struct SafetyData {
    let root: String
    static let variants = 4

    init(root: String, seed: UInt64) throws {
        self.root = root
        var random = SplitMix(seed: seed)
        let pool: [[UInt8]] = (0..<6).map { _ in
            (0..<Int.random(in: 3_000...40_000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        for variant in 0..<Self.variants {
            let directory = root + "/data-\(variant)"
            try FileSystem.makeDirectories(directory + "/sub")
            for index in 0..<3 {
                let blob = pool[(variant + index * 2) % pool.count]
                try blob.withUnsafeBytes { try FileSystem.writeAtomically(directory + "/sub/f\(index)", bytes: $0) }
            }
            let own = Array("variant \(variant) of seed \(seed)\n".utf8)
            try own.withUnsafeBytes { try FileSystem.writeAtomically(directory + "/own.txt", bytes: $0) }
        }
    }

    func source(_ variant: Int) -> String { root + "/data-\(variant)" }
}

/// One operation as the CLI runs it (`store backup-dir`, `store forget`, `gc`, `gc --orphans`).
enum SafetyOperation: CustomStringConvertible, Sendable {
    case backup(String, variant: Int)
    case forget(String)
    case gc
    case gcOrphans

    var description: String {
        switch self {
        case .backup(let name, let variant): "backup \(name) (variant \(variant))"
        case .forget(let name): "forget \(name)"
        case .gc: "gc"
        case .gcOrphans: "gc --orphans"
        }
    }

    func perform(on repository: Repository, data: SafetyData) async throws {
        switch self {
        case .backup(let name, let variant):
            _ = try await TreeBackup(repository: repository, fileConcurrency: 2).run(
                source: data.source(variant), name: name)
        case .forget(let name):
            _ = try await GarbageCollector(repository: repository).run(forgetSnapshots: [name], lockWait: .seconds(5))
        case .gc:
            _ = try await GarbageCollector(repository: repository).run(lockWait: .seconds(5))
        case .gcOrphans:
            _ = try await GarbageCollector(repository: repository).run(orphans: true, lockWait: .seconds(5))
        }
    }
}

/// A store under test, the expected committed snapshots (name → variant), and the checks run after every step.
struct SafetyHarness {
    let temp: TemporaryDirectory
    let data: SafetyData
    let base: LocalDirectoryStore
    var model: [String: Int] = [:]
    var step = 0

    /// The password of an encrypted store under test; nil for a plain one.
    let passwords: FixedPassword?

    init(_ label: String, seed: UInt64, encrypted: Bool = false) async throws {
        temp = try TemporaryDirectory(label)
        data = try SafetyData(root: temp.sub("data"), seed: seed)
        base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        passwords = encrypted ? FixedPassword("safety") : nil
        _ = try await Repository.openOrCreate(
            base, config: RepositoryConfig(encryption: encrypted ? .aes256gcm : .none), passwords: passwords,
            keyParameters: .init(n: 1024, r: 8, p: 1))
    }

    /// The repository over `store` (the base store, or a fault-injecting wrapper of it).
    func repository(over store: (any ObjectStore)? = nil) async throws -> Repository {
        try await Repository.open(store ?? base, passwords: passwords)
    }

    /// Whether the operation applies to the model's state (backups of free names, forgets of existing ones).
    func applies(_ operation: SafetyOperation) -> Bool {
        switch operation {
        case .backup(let name, _): model[name] == nil
        case .forget(let name): model[name] != nil
        case .gc, .gcOrphans: true
        }
    }

    /// Runs an operation to completion and updates the model.
    mutating func run(_ operation: SafetyOperation) async throws {
        try await operation.perform(on: try await repository(), data: data)
        switch operation {
        case .backup(let name, let variant): model[name] = variant
        case .forget(let name): model[name] = nil
        case .gc, .gcOrphans: break
        }
    }

    /// Runs an operation that crashes after its `crashAfter`-th write (optionally followed by a power cut), then
    /// recovers as an operator would: the dead process's locks removed, gc run. Returns whether it crashed.
    @discardableResult
    mutating func runCrashing(_ operation: SafetyOperation, crashAfter: Int, powerLoss: UInt64?) async throws -> Bool {
        let faulty = FaultInjectingStore(base: base, crashAfter: crashAfter)
        do {
            try await operation.perform(on: try await repository(over: faulty), data: data)
        } catch {
            guard faulty.crashed else { throw error }
        }
        guard faulty.crashed else {
            switch operation {
            case .backup(let name, let variant): model[name] = variant
            case .forget(let name): model[name] = nil
            case .gc, .gcOrphans: break
            }
            return false
        }
        if let seed = powerLoss { try await faulty.powerLoss(seed: seed) }
        // The crashed process is gone: its locks go (what `store unlock` does once they are stale).
        for lock in try await base.listAll(prefix: "locks/") { try await base.delete(lock.key) }
        // What the crashed operation did is decided by what committed.
        switch operation {
        case .backup(let name, let variant):
            if try await SnapshotCatalog(repository: try await repository()).snapshot(named: name) != nil {
                model[name] = variant
            }
        case .forget(let name):
            let snapshot = try await SnapshotCatalog(repository: try await repository()).snapshot(named: name)
            let expiring = try await CommittedOwners.expiring(try await repository())
            if snapshot == nil || expiring.contains(snapshot?.commit ?? "") { model[name] = nil }
        case .gc, .gcOrphans: break
        }
        _ = try await GarbageCollector(repository: try await repository()).run(lockWait: .seconds(5))
        return true
    }

    /// Every expected snapshot exists and restores byte for byte, no other exists, verify reads every chunk clean,
    /// and the reference counts match the lists.
    func check(_ context: @autoclosure () -> String) async throws {
        let repository = try await repository()
        let names = Set(try await SnapshotCatalog(repository: repository).all().map(\.name))
        #expect(names == Set(model.keys), "\(context()): snapshots \(names.sorted()), expected \(model.keys.sorted())")
        for (name, variant) in model.sorted(by: { $0.key < $1.key }) {
            let target = temp.sub("restore-\(step)-\(name)")
            do {
                _ = try await TreeRestore(repository: repository).run(snapshot: name, into: target)
                #expect(
                    try SampleData.compareTrees(data.source(variant), target) == [],
                    "\(context()): \(name) restores variant \(variant)")
            } catch {
                Issue.record("\(context()): restoring \(name) failed: \(error)")
            }
            try? FileSystem.removeTree(target)
        }
        let report = try await StoreVerifier(repository: repository).verify(readData: true)
        #expect(report.isClean, "\(context()): \(report.damage.prefix(3))")
        let mismatches = try await GarbageCollector(repository: repository).countMismatches()
        #expect(mismatches.isEmpty, "\(context()): counts differ for \(mismatches.prefix(3))")
    }
}

@Suite("Store safety: names reused, crashes and power cuts never lose a committed byte")
struct StoreSafetyTests {
    /// The sequence from the data-loss report: a name recreated after a deletion must keep its chunks.
    static let reuse: [SafetyOperation] = [
        .backup("x", variant: 0), .backup("y", variant: 0), .gc, .forget("x"), .backup("x", variant: 0), .gc,
        .forget("y"), .gc, .gcOrphans,
    ]

    @Test("a name recreated after a deletion is a new owner: deleting the other snapshot frees none of its chunks")
    func recreatedName() async throws {
        var harness = try await SafetyHarness("safety-reuse", seed: 1)
        defer { harness.temp.remove() }
        for operation in Self.reuse {
            try await harness.run(operation)
            harness.step += 1
            try await harness.check("after \(operation)")
        }
        #expect(harness.model == ["x": 0])
    }

    /// Steps per seed: 125 in CI, more on demand (`VELERO_CAS_SAFETY_STEPS`).
    static var steps: Int {
        ProcessInfo.processInfo.environment["VELERO_CAS_SAFETY_STEPS"].flatMap(Int.init) ?? 125
    }

    /// Shifts every seed (`VELERO_CAS_SAFETY_SEED_BASE`), so on-demand runs explore other sequences than CI's.
    static var seedBase: UInt64 {
        ProcessInfo.processInfo.environment["VELERO_CAS_SAFETY_SEED_BASE"].flatMap(UInt64.init) ?? 0
    }

    @Test(
        "model-based random sequences: backups, forgets, gc and orphan sweeps with names reused, some crashing",
        arguments: [(11, false), (12, false), (13, true), (14, true)] as [(UInt64, Bool)])
    func randomSequences(seed: UInt64, encrypted: Bool) async throws {
        let seed = seed &+ Self.seedBase
        var harness = try await SafetyHarness("safety-random", seed: seed, encrypted: encrypted)
        defer { harness.temp.remove() }
        var random = SplitMix(seed: seed &* 7919)
        let names = ["x", "y", "z"]
        var crashes = 0
        for step in 0..<Self.steps {
            let name = names.randomElement(using: &random)!
            let roll = Int.random(in: 0..<20, using: &random)
            let operation: SafetyOperation =
                switch roll {
                case 0..<8:
                    harness.model[name] == nil
                        ? .backup(name, variant: Int.random(in: 0..<SafetyData.variants, using: &random))
                        : .forget(name)
                case 8..<14: harness.model[name] != nil ? .forget(name) : .backup(name, variant: 1)
                case 14..<17: .gc
                default: .gcOrphans
                }
            harness.step = step
            if Int.random(in: 0..<4, using: &random) == 0 {
                let crashAfter = Int.random(in: 1...30, using: &random)
                let power: UInt64? = Bool.random(using: &random) ? random.next() : nil
                if try await harness.runCrashing(operation, crashAfter: crashAfter, powerLoss: power) { crashes += 1 }
                try await harness.check(
                    "seed \(seed) step \(step): \(operation) crashed after write \(crashAfter)\(power == nil ? "" : " + power cut")"
                )
            } else {
                try await harness.run(operation)
                try await harness.check("seed \(seed) step \(step): \(operation)")
            }
        }
        #expect(crashes > Self.steps / 20, "crashes happened mid-operation (\(crashes))")
    }

    @Test(
        "a crash after every write of every operation, with and without a power cut, loses nothing committed",
        arguments: [false, true])
    func crashAtEveryWrite(encrypted: Bool) async throws {
        // How many writes each operation of the sequence makes when nothing fails.
        var clean = try await SafetyHarness("safety-count", seed: 2, encrypted: encrypted)
        var writes: [Int] = []
        for operation in Self.reuse {
            let counting = FaultInjectingStore(base: clean.base)
            try await operation.perform(on: try await clean.repository(over: counting), data: clean.data)
            writes.append(counting.writes)
            try await clean.run(.gc)  // keep the model's idea of state simple: nothing pending between steps
        }
        clean.temp.remove()
        #expect(writes.allSatisfy { $0 > 0 })

        var runs = 0
        for (index, operation) in Self.reuse.enumerated() {
            for crashAfter in 1...writes[index] {
                for power in [nil, UInt64(crashAfter * 31 + index)] as [UInt64?] {
                    var harness = try await SafetyHarness("safety-crash", seed: 2, encrypted: encrypted)
                    defer { harness.temp.remove() }
                    for earlier in Self.reuse[..<index] where harness.applies(earlier) {
                        try await harness.run(earlier)
                        try await harness.run(.gc)
                    }
                    guard harness.applies(operation) else { continue }
                    try await harness.runCrashing(operation, crashAfter: crashAfter, powerLoss: power)
                    let context = "\(operation) crashed after write \(crashAfter)\(power == nil ? "" : " + power cut")"
                    try await harness.check(context)
                    for later in Self.reuse[(index + 1)...] where harness.applies(later) {
                        try await harness.run(later)
                    }
                    harness.step += 1
                    try await harness.check("\(context), then the rest of the sequence")
                    runs += 1
                }
            }
        }
        #expect(runs >= writes.reduce(0, +), "every crash point ran (\(runs))")
    }

    @Test("applied-operation memory stays bounded: 200 create/delete cycles of one name")
    func boundedMemory() async throws {
        var harness = try await SafetyHarness("safety-bounded", seed: 3)
        defer { harness.temp.remove() }
        try await harness.run(.backup("keep", variant: 1))
        for cycle in 0..<200 {
            try await harness.run(.backup("nightly", variant: cycle % SafetyData.variants))
            try await harness.run(.gc)
            try await harness.run(.forget("nightly"))
        }
        try await harness.check("after 200 cycles")
        let memory = try await GarbageCollector(repository: try await harness.repository()).appliedOperationMemory()
        #expect(memory <= 2, "a shard remembers at most the operations of one run, not 400 past ones (\(memory))")
    }
}
