import Foundation
import KubeClient
import Testing
import VeleroAPI

@Suite("Velero's kinds in Swift")
struct VeleroAPITests {
    @Test("a Backup as the API server returns it decodes, unknown fields and fractional times included")
    func decodesServerJSON() throws {
        let json = """
            {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"b1","namespace":"velero",\
            "resourceVersion":"42","uid":"u-1","labels":{"velero.io/schedule-name":"daily"},"managedFields":[{}]},\
            "spec":{"includedNamespaces":["app"],"ttl":"72h0m0s","labelSelector":{"matchLabels":{"tier":"web"},\
            "matchExpressions":[{"key":"env","operator":"In","values":["prod","dev"]},{"key":"legacy","operator":"DoesNotExist"}]},\
            "hooks":{"resources":[{"name":"h","pre":[{"exec":{"command":["true"]}}]}]},"uploaderConfig":{"parallelFilesUpload":4},\
            "aFieldFromTheFuture":true},\
            "status":{"phase":"WaitingForPluginOperations","startTimestamp":"2024-05-01T10:00:00Z",\
            "completionTimestamp":"2024-05-01T10:00:01.250Z","progress":{"totalItems":7,"itemsBackedUp":3},\
            "errors":2,"warnings":1,"hookStatus":{"hooksAttempted":1}}}
            """
        let backup = try Backup.decode(Array(json.utf8))
        #expect(backup.name == "b1")
        #expect(backup.metadata.resourceVersion == "42")
        #expect(backup.spec.includedNamespaces == ["app"])
        #expect(KubeDuration.seconds(backup.spec.ttl ?? "") == 259_200.0)
        // A phase this version does not know decodes, and is neither New nor final.
        #expect(backup.phase.rawValue == "WaitingForPluginOperations")
        #expect(backup.phase != .new && !backup.phase.isFinal)
        #expect(backup.status?.progress == Backup.Progress(totalItems: 7, itemsBackedUp: 3))
        #expect(backup.status?.errors == 2)
        let start = try #require(backup.status?.startTimestamp)
        let end = try #require(backup.status?.completionTimestamp)
        #expect(abs(end.timeIntervalSince(start) - 1.25) < 0.001)
        #expect(try backup.spec.labelSelector?.selectorString() == "tier=web,env in (dev,prod),!legacy")
    }

    @Test("an object without status is New; times encode as RFC 3339 seconds")
    func newAndEncoding() throws {
        var backup = Backup(name: "b", namespace: "velero")
        #expect(backup.phase == .new)
        backup.status = Backup.Status(phase: .completed)
        backup.status?.startTimestamp = Date(timeIntervalSince1970: 1_700_000_000.75)
        let text = String(decoding: try backup.encoded(), as: UTF8.self)
        #expect(text.contains(#""startTimestamp":"2023-11-14T22:13:20Z""#))
        #expect(text.contains(#""phase":"Completed""#))
        #expect(try Backup.decode(Array(text.utf8)).status?.phase == .completed)
    }

    @Test(
        "Go durations as metav1.Duration writes them",
        arguments: [
            ("720h0m0s", 2_592_000.0), ("1h30m", 5400), ("90s", 90), ("0", 0), ("1.5h", 5400), ("500ms", 0.5),
            ("-1h", -3600),
        ])
    func durations(text: String, seconds: Double) {
        #expect(KubeDuration.seconds(text) == seconds)
    }

    @Test("text that is not a duration is refused", arguments: ["", "soon", "10", "1d", "h", "1h30"])
    func badDurations(text: String) {
        #expect(KubeDuration.seconds(text) == nil)
    }

    /// Go's `time.ParseDuration` refuses more than `math.MaxInt64` nanoseconds (2562047h47m16.854775807s); so does
    /// the parser, so that no caller converts such a value to whole milliseconds and traps.
    @Test(
        "durations longer than Go allows are refused",
        arguments: [
            "2562048h", "9300000000000000s", "3000000000000000h", "2562047h48m", "2562047h47m17s",
            String(repeating: "9", count: 400) + "s",
        ])
    func overlongDurations(text: String) {
        #expect(KubeDuration.seconds(text) == nil)
    }

    @Test("the longest duration Go allows is read") func longestDuration() {
        #expect(KubeDuration.seconds("2562047h47m16s") == 9_223_372_036)
        #expect(KubeDuration.seconds("2562047h") == 9_223_369_200)
    }

    @Test("format gives Go's form") func formatDuration() {
        #expect(KubeDuration.format(seconds: 2_592_000) == "720h0m0s")
        #expect(KubeDuration.format(seconds: 3725) == "1h2m5s")
    }

    @Test(
        "label selectors that cannot be written as a query are refused, naming the problem",
        arguments: [
            (LabelSelectorSpec(matchExpressions: [.init(key: "a", operator: "In")]), "needs values"),
            (LabelSelectorSpec(matchExpressions: [.init(key: "a", operator: "Exists", values: ["x"])]), "no values"),
            (LabelSelectorSpec(matchExpressions: [.init(key: "a", operator: "Gt", values: ["1"])]), "not a valid"),
        ])
    func badSelectors(selector: LabelSelectorSpec, problem: String) {
        #expect(throws: VeleroValidationError.self) { try selector.selectorString() }
        do { _ = try selector.selectorString() } catch { #expect(error.description.contains(problem)) }
    }

    @Test("every CRD is structural, names its kind, and has the status subresource")
    func definitions() throws {
        for definition in VeleroCRDs.all {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(definition.json())) as? [String: Any])
            let spec = try #require(json["spec"] as? [String: Any])
            let names = try #require(spec["names"] as? [String: Any])
            let kind = try #require(names["kind"] as? String)
            let metadata = try #require(json["metadata"] as? [String: Any])
            #expect(metadata["name"] as? String == "\(names["plural"] as? String ?? "").velero.io")
            let version = try #require((spec["versions"] as? [[String: Any]])?.first)
            #expect(version["subresources"] as? [String: [String: String]] == ["status": [:]], "\(kind)")
            let schema = try #require((version["schema"] as? [String: Any])?["openAPIV3Schema"] as? [String: Any])
            #expect(
                SchemaWalk.untyped(schema, path: kind).isEmpty, "\(kind): \(SchemaWalk.untyped(schema, path: kind))")
        }
    }
}

/// Walks a CRD's OpenAPI schema beside an object, as an API server's pruning would.
enum SchemaWalk {
    /// Nodes without a type (not structural: a real API server refuses such a definition).
    static func untyped(_ schema: [String: Any], path: String) -> [String] {
        var found: [String] = schema["type"] == nil ? [path] : []
        for (name, child) in schema["properties"] as? [String: [String: Any]] ?? [:] {
            found += untyped(child, path: "\(path).\(name)")
        }
        if let items = schema["items"] as? [String: Any] { found += untyped(items, path: path + "[]") }
        return found
    }

    /// The fields of `value` the schema does not declare: a real API server would drop them on write.
    static func undeclared(_ value: Any, _ schema: [String: Any], path: String = "") -> [String] {
        if schema["x-kubernetes-preserve-unknown-fields"] as? Bool == true { return [] }
        if let object = value as? [String: Any] {
            if let additional = schema["additionalProperties"] as? [String: Any] {
                return object.flatMap { undeclared($0.value, additional, path: "\(path).\($0.key)") }
            }
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            if path.hasSuffix(".metadata") || path == "metadata" { return [] }
            return object.flatMap { key, child -> [String] in
                guard let declared = properties[key] else { return ["\(path).\(key)"] }
                return undeclared(child, declared, path: path.isEmpty ? key : "\(path).\(key)")
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            return array.flatMap { undeclared($0, items, path: path + "[]") }
        }
        return []
    }

    /// The root schema of a definition.
    static func root(_ definition: VeleroCRDs.Definition) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(definition.json())) as? [String: Any]
        let version = ((json?["spec"] as? [String: Any])?["versions"] as? [[String: Any]])?.first
        return ((version?["schema"] as? [String: Any])?["openAPIV3Schema"] as? [String: Any]) ?? [:]
    }
}
