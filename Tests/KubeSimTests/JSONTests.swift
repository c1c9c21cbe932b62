import KubeSim
import Testing

@Suite("JSON values, patches and selectors")
struct JSONTests {
    @Test("parsing keeps number literals, decodes escapes, rejects bad input")
    func parsing() throws {
        let value = try JSONValue.parse(
            #"{"big":12345678901234567890,"f":1.50,"e":-2E+3,"s":"a\"\\\n\u00e9\ud83d\ude00","n":null,"t":true}"#)
        #expect(value["big"] == .number("12345678901234567890"))
        #expect(value["f"] == .number("1.50"))
        #expect(value["e"] == .number("-2E+3"))
        #expect(value["s"] == .string("a\"\\\né😀"))
        #expect(value["n"] == .null)
        #expect(value["t"] == true)
        #expect(
            value.encodedString
                == #"{"big":12345678901234567890,"e":-2E+3,"f":1.50,"n":null,"s":"a\"\\\n\#u{e9}😀","t":true}"#)
        for bad in ["{", "[1,]", "{\"a\" 1}", "01", "\"\u{1}\"", "nul", "{} x", "1.", "-"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
        #expect(try JSONValue.parse("\"\\u0001\"").encodedString == "\"\\u0001\"")
    }

    @Test("RFC 7386 merge patch")
    func mergePatch() {
        let target: JSONValue = ["a": "b", "c": ["d": "e", "f": "g"], "list": [1, 2]]
        let patch: JSONValue = ["a": "z", "c": ["f": nil, "h": "i"], "list": [3], "new": ["x": nil, "y": 1]]
        #expect(
            target.mergePatched(with: patch) == ["a": "z", "c": ["d": "e", "h": "i"], "list": [3], "new": ["y": 1]])
        #expect(target.mergePatched(with: "replaced") == "replaced")
    }

    @Test("strategic merge patch merges named list elements and honours directives")
    func strategicMergePatch() {
        let target: JSONValue = [
            "containers": [
                ["name": "a", "image": "a:1", "ports": [["containerPort": 80]]], ["name": "b", "image": "b:1"],
            ],
            "finalizers": ["x", "y"], "labels": ["keep": "1", "drop": "2"],
        ]
        let patch: JSONValue = [
            "containers": [
                ["name": "a", "image": "a:2"], ["name": "b", "$patch": "delete"], ["name": "c", "image": "c:1"],
            ],
            "$setElementOrder/containers": [["name": "c"], ["name": "a"]],
            "$deleteFromPrimitiveList/finalizers": ["x"],
            "labels": ["drop": nil],
        ]
        let result = target.strategicMergePatched(with: patch)
        #expect(
            result["containers"] == [
                ["name": "c", "image": "c:1"], ["name": "a", "image": "a:2", "ports": [["containerPort": 80]]],
            ])
        #expect(result["finalizers"] == ["y"])
        #expect(result["labels"] == ["keep": "1"])
        #expect(result.objectValue?.keys.contains { $0.hasPrefix("$") } == false)
        let replaced = target.strategicMergePatched(with: ["labels": ["$patch": "replace", "only": "1"]])
        #expect(replaced["labels"] == ["only": "1"])
    }

    @Test("label selector parsing and matching")
    func labelSelectors() throws {
        let labels = ["app": "web", "tier": "front", "n": "5"]
        let cases: [(String, Bool)] = [
            ("app=web", true), ("app==web", true), ("app!=web", false), ("app in (web, db)", true),
            ("app notin (web)", false), ("app", true), ("!app", false), ("!missing", true), ("n>3", true),
            ("n<3", false), ("app=web,tier=back", false), ("", true), ("missing notin (x)", true),
        ]
        for (text, expected) in cases {
            #expect(try LabelSelector(parsing: text).matches(labels) == expected, "\(text)")
        }
        for bad in ["app in web", "a b c d", "=x", "app=(x"] {
            #expect(throws: SelectorError.self, "\(bad)") { try LabelSelector(parsing: bad) }
        }
    }

    @Test("fixture text: multi-document YAML with Lists, typed scalars, and JSON")
    func fixtureText() throws {
        let yaml = """
            kind: List
            apiVersion: v1
            items:
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {n: "1"}}
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec: {replicas: 3, paused: false, ratio: 0.5, note: null, version: "1.0"}
            """
        let objects = try Fixtures.objects(in: yaml)
        #expect(objects.count == 3)
        #expect(objects[0]["data"]?["n"] == "1")
        #expect(
            objects[2]["spec"] == [
                "replicas": 3, "paused": false, "ratio": .number("0.5"), "note": nil, "version": "1.0",
            ])
        #expect(try Fixtures.objects(in: #"{"kind":"ConfigMapList","items":[{"metadata":{"name":"x"}}]}"#).count == 1)
    }
}
