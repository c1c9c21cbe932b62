import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import KubeSim
import SampleData
import SystemIO
import TestSupport
import Testing

@testable import GarbageCollector

/// A served cluster with a hostPath volume, backed up through the real backup pipeline into a store under test.
struct ClusterSafetyHarness {
    /// What a committed backup must keep returning: its objects (key → bytes) and its volume's data variant.
    struct Expected: Equatable {
        var objects: [String: [UInt8]]
        var variant: Int
        var expires: Bool
    }

    let server: KubeSimServer
    let client: KubeClient
    let safety: SafetyHarness
    var model: [String: Expected] = [:]
    /// Names whose record is Failed (a crashed backup): they must be deleted before the name is free again.
    var failed: Set<String> = []
    var volumeVariant = 0

    var volume: String { safety.temp.sub("volume") }

    static func start(seed: UInt64) async throws -> ClusterSafetyHarness {
        let server = try await KubeSimServer.start(
            KubeSimConfiguration(
                synthetic: SyntheticCluster.Options(
                    namespaces: 2, objectsPerNamespace: 12, seed: seed, clusterScoped: false)))
        let client = KubeClient(configuration: ClusterConfiguration(server: server.baseURL))
        var harness = ClusterSafetyHarness(
            server: server, client: client, safety: try await SafetyHarness("safety-cluster", seed: seed))
        try harness.setVolume(0)
        let volumes = try #require(
            try await client.discover().first { $0.group.isEmpty && $0.name == "persistentvolumes" })
        let json =
            #"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"data"},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"\#(harness.volume)"},"claimRef":{"namespace":"app","name":"data"}}}"#
        _ = try await client.create(volumes, namespace: nil, json: Array(json.utf8))
        return harness
    }

    func stop() async {
        try? await server.shutdown()
        safety.temp.remove()
    }

    /// Puts a data variant in the volume (new files, so the next backup reads them).
    mutating func setVolume(_ variant: Int) throws {
        try FileSystem.removeTree(volume)
        try FileSystem.makeDirectories(volume + "/sub")
        let source = safety.data.source(variant)
        for file in ["own.txt", "sub/f0", "sub/f1", "sub/f2"] {
            try FileSystem.readFile(source + "/" + file).withUnsafeBytes {
                try FileSystem.writeAtomically(volume + "/" + file, bytes: $0)
            }
            let status = try FileSystem.status(source + "/" + file)
            try FileSystem.setModificationTime(
                volume + "/" + file, seconds: status.modificationSeconds, nanoseconds: status.modificationNanoseconds)
        }
        volumeVariant = variant
    }

    enum Operation: CustomStringConvertible {
        case backup(String, variant: Int, expires: Bool)
        case delete(String)
        case expire
        case orphans

        var description: String {
            switch self {
            case .backup(let name, let variant, let expires):
                "backup \(name) (variant \(variant)\(expires ? ", TTL" : ""))"
            case .delete(let name): "backup delete \(name)"
            case .expire: "gc (TTL expiry)"
            case .orphans: "gc --orphans"
            }
        }
    }

    func perform(_ operation: Operation, store: any ObjectStore) async throws {
        let repository = try await Repository.open(store)
        switch operation {
        case .backup(let name, _, let expires):
            let request = BackupRecord(
                name: name, filter: ResourceFilter(), ttlSeconds: expires ? 60 : nil, storageLocation: "test",
                cluster: server.baseURL)
            let record = try await BackupPipeline(collector: ResourceCollector(client: client, repository: repository))
                .run(request)
            guard record.phase == .completed else { throw BackupFailed(record: record) }
        case .delete(let name):
            _ = try await GarbageCollector(repository: repository).run(delete: [name], lockWait: .seconds(5))
        case .expire:
            // Two minutes on: backups made with a TTL are past it, the others have none.
            _ = try await GarbageCollector(repository: repository).run(
                now: Date().addingTimeInterval(120), lockWait: .seconds(5))
        case .orphans:
            _ = try await GarbageCollector(repository: repository).run(orphans: true, lockWait: .seconds(5))
        }
    }

    struct BackupFailed: Error { var record: BackupRecord }

    /// The objects a committed backup holds, read back through its manifest.
    func objects(of name: String) async throws -> [String: [UInt8]] {
        let reader = ResourceReader(repository: try await safety.repository())
        var result: [String: [UInt8]] = [:]
        for stream in try await reader.manifest(named: name).streams {
            for (location, bytes) in zip(stream.objects, try await reader.objects(in: stream)) {
                result["\(stream.resource.qualifiedName) \(location.namespace ?? "")/\(location.name)"] = bytes
            }
        }
        return result
    }

    /// Updates the model from what the store says about `names` after an operation (crashed or not).
    mutating func settle(_ names: [String], variant: Int?, expires: Bool) async throws {
        let repository = try await safety.repository()
        for name in names {
            let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(name))
            guard let record else {
                model[name] = nil
                failed.remove(name)
                continue
            }
            if record.phase.isRestorable {
                if model[name] == nil, let variant {
                    model[name] = Expected(objects: try await objects(of: name), variant: variant, expires: expires)
                }
            } else {
                model[name] = nil
                failed.insert(name)
            }
        }
    }

    /// Runs an operation, crashing after `crashAfter` writes (then power loss, dead locks removed, gc), or not;
    /// returns whether it crashed.
    @discardableResult
    mutating func run(_ operation: Operation, crashAfter: Int?, powerLoss: UInt64?) async throws -> Bool {
        let faulty = FaultInjectingStore(base: safety.base, crashAfter: crashAfter)
        do {
            try await perform(operation, store: faulty)
        } catch {
            guard faulty.crashed else { throw error }
        }
        if faulty.crashed {
            if let powerLoss { try await faulty.powerLoss(seed: powerLoss) }
            for lock in try await safety.base.listAll(prefix: "locks/") { try await safety.base.delete(lock.key) }
            _ = try await GarbageCollector(repository: try await safety.repository()).run(lockWait: .seconds(5))
        }
        switch operation {
        case .backup(let name, let variant, let expires):
            try await settle([name], variant: variant, expires: expires)
        case .delete(let name):
            try await settle([name], variant: nil, expires: false)
        case .expire, .orphans:
            try await settle(Array(model.keys) + Array(failed), variant: nil, expires: false)
        }
        return faulty.crashed
    }

    /// Every expected backup is Completed and reads back its objects and volume byte for byte; no other backup is
    /// restorable; verify reads every chunk clean; the counts match the lists.
    func check(_ context: @autoclosure () -> String) async throws {
        let repository = try await safety.repository()
        let restorable = Set(try await BackupRecord.list(repository).filter(\.phase.isRestorable).map(\.name))
        #expect(restorable == Set(model.keys), "\(context()): restorable \(restorable.sorted())")
        for (name, expected) in model.sorted(by: { $0.key < $1.key }) {
            do {
                #expect(try await objects(of: name) == expected.objects, "\(context()): \(name)'s objects")
                let record = try #require(try await repository.record(BackupRecord.self, key: BackupRecord.key(name)))
                let snapshot = try #require(record.volumes.first?.snapshot, "\(context()): \(name) has its volume")
                let target = safety.temp.sub("restore-\(name)")
                _ = try await TreeRestore(repository: repository).run(snapshot: snapshot, into: target)
                #expect(
                    try SampleData.compareTrees(safety.data.source(expected.variant), target) == [],
                    "\(context()): \(name)'s volume")
                try? FileSystem.removeTree(target)
            } catch {
                Issue.record("\(context()): reading \(name) failed: \(error)")
            }
        }
        let report = try await StoreVerifier(repository: repository).verify(readData: true)
        #expect(report.isClean, "\(context()): \(report.damage.prefix(3))")
        let mismatches = try await GarbageCollector(repository: repository).countMismatches()
        #expect(mismatches.isEmpty, "\(context()): counts differ for \(mismatches.prefix(3))")
    }
}

@Suite("Store safety with backups of a served cluster")
struct BackupSafetyTests {
    /// Steps per seed: 50 in CI, half of `VELERO_CAS_SAFETY_STEPS` on demand (each step runs a whole backup).
    @Test(
        "a crash after every write of a backup deletion, with and without a power cut, never leaves a backup without its volume"
    )
    func deletionCrashAtEveryWrite() async throws {
        var harness = try await ClusterSafetyHarness.start(seed: 31)
        do {
            try harness.setVolume(1)
            try await harness.run(.backup("keep", variant: 1, expires: false), crashAfter: nil, powerLoss: nil)
            var crashAfter = 1
            var power = false
            while true {
                try harness.setVolume(2)
                try await harness.run(.backup("gone", variant: 2, expires: false), crashAfter: nil, powerLoss: nil)
                let crashed = try await harness.run(
                    .delete("gone"), crashAfter: crashAfter, powerLoss: power ? UInt64(crashAfter) : nil)
                try await harness.check(
                    "backup delete crashing after write \(crashAfter)\(power ? " + power cut" : "")")
                if harness.model["gone"] != nil || harness.failed.contains("gone") {
                    try await harness.run(.delete("gone"), crashAfter: nil, powerLoss: nil)
                }
                if !crashed {
                    #expect(crashAfter > 10, "the deletion made several writes")
                    if power { break }
                    (crashAfter, power) = (1, true)
                } else {
                    crashAfter += 1
                }
            }
            #expect(Set(harness.model.keys) == ["keep"])
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    static var steps: Int {
        ProcessInfo.processInfo.environment["VELERO_CAS_SAFETY_STEPS"].flatMap(Int.init).map { $0 / 2 } ?? 50
    }

    @Test(
        "model-based random sequences of backups (resources and a volume), deletions, TTL expiry and orphan sweeps, names reused, some crashing",
        arguments: [21, 22] as [UInt64])
    func randomSequences(seed: UInt64) async throws {
        let seed = seed &+ StoreSafetyTests.seedBase
        var harness = try await ClusterSafetyHarness.start(seed: seed)
        var random = SplitMix(seed: seed &* 104_729)
        let names = ["nightly", "weekly", "adhoc"]
        var crashes = 0
        do {
            for step in 0..<Self.steps {
                let name = names.randomElement(using: &random)!
                let taken = harness.model[name] != nil || harness.failed.contains(name)
                let roll = Int.random(in: 0..<10, using: &random)
                let operation: ClusterSafetyHarness.Operation =
                    switch roll {
                    case 0..<5:
                        taken
                            ? .delete(name)
                            : .backup(
                                name, variant: Int.random(in: 0..<SafetyData.variants, using: &random),
                                expires: Bool.random(using: &random))
                    case 5..<7: taken ? .delete(name) : .expire
                    case 7..<9: .expire
                    default: .orphans
                    }
                if case .backup(_, let variant, _) = operation { try harness.setVolume(variant) }
                let crashAfter =
                    Int.random(in: 0..<4, using: &random) == 0 ? Int.random(in: 1...40, using: &random) : nil
                let power: UInt64? = crashAfter != nil && Bool.random(using: &random) ? random.next() : nil
                if try await harness.run(operation, crashAfter: crashAfter, powerLoss: power) { crashes += 1 }
                try await harness.check(
                    "seed \(seed) step \(step): \(operation)\(crashAfter.map { " crashing after write \($0)" } ?? "")\(power == nil ? "" : " + power cut")"
                )
            }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
        #expect(crashes > 0, "some operations crashed mid-way")
    }
}
