/// The generator's working state: the seeded random source, the next resourceVersion, the filler pools.
struct SyntheticWriter {
    typealias Summary = SyntheticCluster.Summary

    let options: SyntheticCluster.Options
    var random: SeededGenerator
    var version: UInt64
    let words: [UInt8]
    let base64: [UInt8]
    var summary = Summary()
    var objects: [String: [StoredObject]] = [:]

    init(options: SyntheticCluster.Options, firstVersion: UInt64) {
        self.options = options
        var random = SeededGenerator(seed: options.seed)
        version = firstVersion
        let vocabulary = [
            "alpha", "bravo", "cluster", "delta", "echo", "falcon", "gamma", "harbor", "index", "jupiter", "kernel",
            "lambda", "matrix", "nebula", "orbit", "pixel", "quartz", "radius", "sigma", "tensor", "umbra", "vector",
            "widget", "xenon", "yield", "zephyr", "replica", "volume", "backup", "restore", "snapshot", "chunk",
        ]
        var pool: [UInt8] = []
        pool.reserveCapacity(70_000)
        while pool.count < 65_536 {
            pool.append(contentsOf: vocabulary.randomElement(using: &random)!.utf8)
            pool.append(UInt8(ascii: " "))
        }
        words = pool
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var letters: [UInt8] = []
        letters.reserveCapacity(65_536)
        for _ in 0..<65_536 { letters.append(alphabet.randomElement(using: &random)!) }
        base64 = letters
        self.random = random
    }

    mutating func nextVersion() -> UInt64 {
        defer { version += 1 }
        return version
    }

    mutating func createdSeconds() -> Int {
        1_700_000_000 + Int(random.next() % 30_000_000)
    }

    mutating func created() -> String {
        Timestamp.rfc3339(epochSeconds: createdSeconds())
    }

    mutating func targetSize() -> Int {
        options.minimumObjectBytes
            + Int(random.next() % UInt64(options.maximumObjectBytes - options.minimumObjectBytes + 1))
    }

    mutating func filler(_ length: Int, base64 useBase64: Bool = false) -> String {
        let pool = useBase64 ? base64 : words
        var length = max(0, length)
        if useBase64 { length -= length % 4 }
        let start = Int(random.next() % UInt64(pool.count))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        var position = start
        while bytes.count < length {
            let take = min(length - bytes.count, pool.count - position)
            bytes.append(contentsOf: pool[position..<(position + take)])
            position = 0
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    struct Identity {
        var namespace: String
        var name: String
        var uid: String
        var version: UInt64
        var createdSeconds: Int
        var created: String
        var labels: [(String, String)]

        /// A timestamp `seconds` after creation.
        func later(_ seconds: Int) -> String { Timestamp.rfc3339(epochSeconds: createdSeconds + seconds) }
    }

    mutating func identity(namespace: String, name: String, labels: [(String, String)]) -> Identity {
        let uid = Identifiers.uuid(using: &random)
        let seconds = createdSeconds()
        return Identity(
            namespace: namespace, name: name, uid: uid, version: nextVersion(), createdSeconds: seconds,
            created: Timestamp.rfc3339(epochSeconds: seconds), labels: labels)
    }

    /// Builds an object twice: once to measure its skeleton, once with the filler that brings it to `target` bytes.
    mutating func add(
        _ typeKey: String, _ identity: Identity, target: Int?, fields: [String: String] = [:],
        base64Filler: Bool = false, _ build: (inout ObjectBuilder, Identity, String) -> Void
    ) {
        var fillerText = ""
        if let target {
            var probe = ObjectBuilder(capacity: 2048)
            build(&probe, identity, "")
            fillerText = filler(target - probe.bytes.count, base64: base64Filler)
        }
        var builder = ObjectBuilder(capacity: (target ?? 1024) + 64)
        build(&builder, identity, fillerText)
        let object = StoredObject(
            namespace: identity.namespace, name: identity.name, uid: identity.uid, resourceVersion: identity.version,
            labels: Dictionary(identity.labels, uniquingKeysWith: { $1 }), fields: fields, body: builder.bytes,
            versionRange: builder.versionRange)
        objects[typeKey, default: []].append(object)
        summary.counts[typeKey, default: 0] += 1
        summary.bytes += builder.bytes.count
    }

    mutating func run() -> (batches: [(ResourceType, [StoredObject])], summary: Summary) {
        for type in SyntheticCluster.customTypes { addDefinition(type) }
        let width = max(3, String(options.namespaces).count)
        for index in 0..<options.namespaces {
            let namespace = "ns-" + String(repeating: "0", count: width - String(index).count) + String(index)
            summary.namespaceNames.append(namespace)
            addNamespace(namespace, team: SyntheticCluster.apps[index % SyntheticCluster.apps.count])
        }
        let kinds = SyntheticCluster.namespacedKinds
        // A deck with one card per unit of weight, reshuffled (Fisher–Yates) whenever it runs out.
        var deck = kinds.indices.flatMap { Array(repeating: $0, count: kinds[$0].weight) }
        var dealt = deck.count
        for namespace in summary.namespaceNames {
            var counters = Array(repeating: 0, count: kinds.count)
            for _ in 0..<options.objectsPerNamespace {
                if dealt == deck.count {
                    for position in stride(from: deck.count - 1, to: 0, by: -1) {
                        deck.swapAt(position, Int(random.next() % UInt64(position + 1)))
                    }
                    dealt = 0
                }
                let index = deck[dealt]
                dealt += 1
                let app = SyntheticCluster.apps.randomElement(using: &random)!
                let tier = SyntheticCluster.tiers.randomElement(using: &random)!
                counters[index] += 1
                let name = app + "-" + kinds[index].short + "-" + String(counters[index])
                addNamespaced(kinds[index].key, namespace: namespace, name: name, app: app, tier: tier)
            }
        }
        if options.clusterScoped { addClusterScoped() }
        var types: [String: ResourceType] = [:]
        for type in ResourceType.builtIn + SyntheticCluster.customTypes { types[type.key] = type }
        let order = ["customresourcedefinitions.apiextensions.k8s.io", "namespaces"]
        let keys = order.filter { objects[$0] != nil } + objects.keys.filter { !order.contains($0) }.sorted()
        let batches = keys.map { key in
            (types[key]!, objects[key]!.sorted { $0.key < $1.key })
        }
        return (batches, summary)
    }
}
