import BackupModel
import Collectors
import Foundation
import KubeClient
import Yams

/// Velero's resource modifiers (`--resource-modifier-configmap`): rules that patch restored objects.
///
/// The ConfigMap has one data key whose value is YAML:
/// ```yaml
/// version: v1
/// resourceModifierRules:
/// - conditions:
///     groupResource: deployments.apps      # glob, '.' separated: "*.apps", "pods", "**"
///     resourceNameRegex: "^web-.*"         # optional
///     namespaces: [prod, "team-*"]         # optional; the namespace in the backup
///     labelSelector: {matchLabels: {app: web}, matchExpressions: [{key: tier, operator: In, values: [a]}]}
///     matches: [{path: /spec/replicas, value: "3"}]   # optional JSON-pointer tests, all must hold
///   patches:                               # RFC 6902; or mergePatches / strategicPatches, one kind per rule
///   - {operation: replace, path: /spec/replicas, value: "1"}
/// ```
/// A JSON patch `value` is text: `null`, `true`/`false`, numbers and text starting with `{` or `[` are JSON, text
/// in double quotes is that string, anything else is a string (Velero's rule). A rule's JSON patches apply as one:
/// when a `test` fails the rule changes nothing. Rules match against the object as it was before any rule ran.
///
/// Where Velero restores an object whose patch failed and reports an error, velero-cas fails that object instead:
/// an object the user asked to change is not created unchanged.
public struct ResourceModifiers: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var conditions: Conditions
        public var patches: [JSONPatch.Operation] = []
        /// RFC 7386 merge patches, as JSON.
        public var mergePatches: [JSONText] = []
        /// Strategic merge patches, as JSON.
        public var strategicPatches: [JSONText] = []
    }

    public struct Conditions: Sendable, Equatable {
        public var groupResource: Glob
        public var resourceNameRegex: Pattern?
        public var namespaces: [Glob] = []
        public var labelSelector: LabelSelector?
        public var matches: [JSONPatch.Operation] = []
    }

    /// A compiled regular expression (immutable, so shared between workers).
    public final class Pattern: @unchecked Sendable, Equatable {
        public let text: String
        let expression: NSRegularExpression

        init(_ text: String) throws {
            self.text = text
            expression = try NSRegularExpression(pattern: text)
        }

        func matches(_ name: String) -> Bool {
            expression.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
        }

        public static func == (a: Pattern, b: Pattern) -> Bool { a.text == b.text }
    }

    public var rules: [Rule]

    /// Reads the rules from a ConfigMap object (JSON), which must have exactly one data key.
    public static func parse(configMap json: [UInt8], name: String) throws(ResourceModifierError) -> ResourceModifiers {
        let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
        guard let data = object?["data"] as? [String: String], data.count == 1, let text = data.values.first else {
            throw .invalid("ConfigMap \(name) must have exactly one data key holding the rules")
        }
        return try parse(yaml: text)
    }

    public static func parse(yaml text: String) throws(ResourceModifierError) -> ResourceModifiers {
        let document: Any
        do {
            guard let node = try Yams.compose(yaml: text, Resolver.default.removing(.timestamp).removing(.value))
            else { throw ResourceModifierError.invalid("the rules are empty") }
            document = try YAMLValue.convert(node)
        } catch let error as ResourceModifierError {
            throw error
        } catch {
            throw .invalid("the rules are not valid YAML: \(error)")
        }
        let top = try Fields(document, at: "the rules", allowed: ["version", "resourceModifierRules"])
        let version = try top.string("version") ?? ""
        guard version.lowercased() == "v1" else {
            throw .invalid("unsupported version '\(version)' (the only version is v1)")
        }
        let ruleValues = try top.list("resourceModifierRules")
        guard !ruleValues.isEmpty else { throw .invalid("resourceModifierRules cannot be empty") }
        return ResourceModifiers(
            rules: try ruleValues.enumerated().map { (index, value) throws(ResourceModifierError) in
                try parseRule(value, at: "resourceModifierRules[\(index)]")
            })
    }

    static func parseRule(_ value: Any, at place: String) throws(ResourceModifierError) -> Rule {
        let fields = try Fields(
            value, at: place, allowed: ["conditions", "patches", "mergePatches", "strategicPatches"])
        guard let conditionsValue = fields.values["conditions"] else {
            throw .invalid("\(place).conditions is required")
        }
        var rule = Rule(conditions: try parseConditions(conditionsValue, at: place + ".conditions"))
        for (index, patch) in try fields.list("patches").enumerated() {
            rule.patches.append(try parseOperation(patch, at: "\(place).patches[\(index)]", kind: .patch))
        }
        for (field, keyPath) in [("mergePatches", \Rule.mergePatches), ("strategicPatches", \Rule.strategicPatches)] {
            for (index, patch) in try fields.list(field).enumerated() {
                let patchPlace = "\(place).\(field)[\(index)]"
                let patchFields = try Fields(patch, at: patchPlace, allowed: ["patchData"])
                guard let data = try patchFields.string("patchData") else {
                    throw .invalid("\(patchPlace).patchData is required")
                }
                rule[keyPath: keyPath].append(try JSONText(yaml: data, at: patchPlace + ".patchData"))
            }
        }
        let kinds = [rule.patches.isEmpty, rule.mergePatches.isEmpty, rule.strategicPatches.isEmpty].count { !$0 }
        guard kinds == 1 else {
            throw .invalid(
                kinds == 0
                    ? "\(place) has no patches, mergePatches or strategicPatches"
                    : "\(place): only one of patches, mergePatches, strategicPatches can be specified")
        }
        return rule
    }

    static func parseConditions(_ value: Any, at place: String) throws(ResourceModifierError) -> Conditions {
        let fields = try Fields(
            value, at: place, allowed: ["groupResource", "resourceNameRegex", "namespaces", "labelSelector", "matches"])
        guard let text = try fields.string("groupResource"), !text.isEmpty else {
            throw .invalid("\(place).groupResource cannot be empty")
        }
        guard let groupResource = Glob(text, separators: ["."]) else {
            throw .invalid("\(place).groupResource '\(text)' is not a valid pattern")
        }
        var conditions = Conditions(groupResource: groupResource)
        if let regex = try fields.string("resourceNameRegex"), !regex.isEmpty {
            do { conditions.resourceNameRegex = try Pattern(regex) } catch {
                throw .invalid("\(place).resourceNameRegex '\(regex)' is not a valid regular expression")
            }
        }
        for namespace in try fields.list("namespaces") {
            guard let text = namespace as? String, let glob = Glob(text) else {
                throw .invalid("\(place).namespaces: '\(namespace)' is not a namespace name or pattern")
            }
            conditions.namespaces.append(glob)
        }
        if let selector = fields.values["labelSelector"] {
            conditions.labelSelector = try parseSelector(selector, at: place + ".labelSelector")
        }
        for (index, match) in try fields.list("matches").enumerated() {
            conditions.matches.append(try parseOperation(match, at: "\(place).matches[\(index)]", kind: .match))
        }
        return conditions
    }

    enum OperationKind { case patch, match }

    static func parseOperation(_ value: Any, at place: String, kind: OperationKind) throws(ResourceModifierError)
        -> JSONPatch.Operation
    {
        let fields = try Fields(
            value, at: place, allowed: kind == .patch ? ["operation", "path", "value", "from"] : ["path", "value"])
        let op = kind == .patch ? try fields.string("operation")?.lowercased() ?? "" : "test"
        guard !op.isEmpty else { throw .invalid("\(place).operation cannot be empty") }
        guard JSONPatch.Operation.names.contains(op) else {
            throw .invalid("\(place).operation '\(op)' is not one of add, remove, replace, move, copy, test")
        }
        guard let path = try fields.string("path"), !path.isEmpty else {
            throw .invalid("\(place).path cannot be empty")
        }
        let from = try fields.string("from")
        if op == "move" || op == "copy", from?.isEmpty ?? true {
            throw .invalid("\(place).from is required for \(op)")
        }
        let value = try JSONText(patchValue: fields.values["value"], at: place + ".value")
        return JSONPatch.Operation(op: op, path: path, from: from, value: value)
    }

    static func parseSelector(_ value: Any, at place: String) throws(ResourceModifierError) -> LabelSelector {
        let fields = try Fields(value, at: place, allowed: ["matchLabels", "matchExpressions"])
        var requirements: [String] = []
        for (key, label) in (fields.values["matchLabels"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            requirements.append("\(key)=\(label)")
        }
        for (index, expression) in try fields.list("matchExpressions").enumerated() {
            let expressionPlace = "\(place).matchExpressions[\(index)]"
            let parts = try Fields(expression, at: expressionPlace, allowed: ["key", "operator", "values"])
            let key = try parts.string("key") ?? ""
            let values = try parts.list("values").map { "\($0)" }.joined(separator: ",")
            switch try parts.string("operator") ?? "" {
            case "In": requirements.append("\(key) in (\(values))")
            case "NotIn": requirements.append("\(key) notin (\(values))")
            case "Exists": requirements.append(key)
            case "DoesNotExist": requirements.append("!\(key)")
            case let other:
                throw .invalid("\(expressionPlace).operator '\(other)' is not In, NotIn, Exists or DoesNotExist")
            }
        }
        do { return try LabelSelector(parsing: requirements.joined(separator: ",")) } catch {
            throw .invalid("\(place): \(error)")
        }
    }

    /// Applies every matching rule to `object` (`resource` is its type; its namespace is the one in the backup).
    public func apply(to object: inout [String: Any], resource: APIResource) throws(ResourceModifierError) {
        let original = object
        let metadata = original["metadata"] as? [String: Any] ?? [:]
        let namespace = metadata["namespace"] as? String ?? ""
        let name = metadata["name"] as? String ?? ""
        let labels = (metadata["labels"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        for (index, rule) in rules.enumerated() {
            let conditions = rule.conditions
            guard conditions.groupResource.matches(resource.qualifiedName),
                namespace.isEmpty || conditions.namespaces.isEmpty
                    || conditions.namespaces.contains(where: { $0.matches(namespace) }),
                conditions.resourceNameRegex?.matches(name) ?? true,
                conditions.labelSelector?.matches(labels) ?? true
            else { continue }
            do {
                if !conditions.matches.isEmpty {
                    switch Result<[String: Any], PatchError>(catching: { () throws(PatchError) in
                        try JSONPatch.apply(conditions.matches, to: original)
                    }) {
                    case .success: break
                    case .failure(.testFailed), .failure(.missing): continue
                    case .failure(let error): throw error
                    }
                }
                if !rule.patches.isEmpty {
                    switch Result<[String: Any], PatchError>(catching: { () throws(PatchError) in
                        try JSONPatch.apply(rule.patches, to: object)
                    }) {
                    case .success(let patched): object = patched
                    case .failure(.testFailed): continue
                    case .failure(let error): throw error
                    }
                }
                for patch in rule.mergePatches {
                    object = MergePatch.apply(try patch.value(), to: object) as? [String: Any] ?? object
                }
                if !rule.strategicPatches.isEmpty {
                    guard ResourceCollector.builtInGroups.contains(resource.group) else {
                        throw PatchError.invalid(
                            "strategic merge patches apply to built-in kinds only; \(resource) needs mergePatches")
                    }
                    for patch in rule.strategicPatches {
                        object = try StrategicMergePatch.apply(try patch.value(), to: object)
                    }
                }
            } catch {
                throw .apply(rule: index, reason: "\(error)")
            }
        }
    }
}

public enum ResourceModifierError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalid(String)
    case apply(rule: Int, reason: String)

    public var description: String {
        switch self {
        case .invalid(let reason): "invalid resource modifiers: \(reason)"
        case .apply(let rule, let reason): "resource modifier rule resourceModifierRules[\(rule)] failed: \(reason)"
        }
    }
}

/// A JSON value kept as its text, so rules can be shared between workers; parsed where it is applied.
public struct JSONText: Sendable, Equatable {
    public var bytes: [UInt8]

    public init(json: String) { bytes = Array(json.utf8) }

    init(yaml text: String, at place: String) throws(ResourceModifierError) {
        do {
            guard let node = try Yams.compose(yaml: text, Resolver.default.removing(.timestamp).removing(.value))
            else { throw ResourceModifierError.invalid("\(place) is empty") }
            let value = try YAMLValue.convert(node)
            bytes = Array(try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
        } catch let error as ResourceModifierError {
            throw error
        } catch {
            throw .invalid("\(place) is not valid YAML: \(error)")
        }
    }

    /// Velero's reading of a JSON patch value (its `addQuotes`): see `ResourceModifiers`.
    init(patchValue value: Any?, at place: String) throws(ResourceModifierError) {
        guard let value else {
            self.init(json: "\"\"")
            return
        }
        guard let text = value as? String else {
            // A YAML map or list: velero-cas takes it as the JSON it is (Velero wants it written as JSON text).
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) else {
                throw .invalid("\(place) cannot be written as JSON")
            }
            self.init(json: String(decoding: data, as: UTF8.self))
            return
        }
        let json: String
        if text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"") {
            json = Self.quoted(String(text.dropFirst().dropLast()))
        } else if text == "null" || ["true", "false"].contains(text.lowercased()) {
            json = text.lowercased()
        } else if text.hasPrefix("{") || text.hasPrefix("[") || Double(text) != nil {
            json = text
        } else {
            json = Self.quoted(text)
        }
        self.init(json: json)
        do { _ = try self.value() } catch { throw .invalid("\(place) '\(text)' is not valid JSON") }
    }

    static func quoted(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(decoding: (data ?? Data("[\"\"]".utf8)).dropFirst().dropLast(), as: UTF8.self)
    }

    func value() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }
}

/// YAML nodes as the values JSONSerialization writes: maps with string keys, lists, strings, numbers, booleans,
/// null. Scalars that are not booleans, numbers or null stay the text they are.
enum YAMLValue {
    static func convert(_ node: Node) throws(ResourceModifierError) -> Any {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return NSNull()
            case Tag.Name.bool.rawValue: return node.bool ?? scalar.string
            case Tag.Name.int.rawValue: return node.int ?? scalar.string
            case Tag.Name.float.rawValue: return node.float ?? scalar.string
            default: return scalar.string
            }
        case .mapping(let mapping):
            var result: [String: Any] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw .invalid("a YAML map key is not a string") }
                result[name] = try convert(value)
            }
            return result
        case .sequence(let sequence):
            var result: [Any] = []
            for element in sequence { result.append(try convert(element)) }
            return result
        case .alias: throw .invalid("YAML aliases are not supported")
        }
    }
}

/// The fields of one YAML map, refusing unknown ones (Velero decodes the rules strictly).
struct Fields {
    let values: [String: Any]
    let place: String

    init(_ value: Any, at place: String, allowed: Set<String>) throws(ResourceModifierError) {
        guard let map = value as? [String: Any] else { throw .invalid("\(place) must be a map") }
        if let unknown = map.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalid("\(place) has an unknown field '\(unknown)'")
        }
        values = map
        self.place = place
    }

    func string(_ key: String) throws(ResourceModifierError) -> String? {
        switch values[key] {
        case nil, is NSNull: return nil
        case let text as String: return text
        case let other? where !(other is [Any] || other is [String: Any]): return "\(other)"
        default: throw .invalid("\(place).\(key) must be a string")
        }
    }

    func list(_ key: String) throws(ResourceModifierError) -> [Any] {
        switch values[key] {
        case nil, is NSNull: return []
        case let list as [Any]: return list
        default: throw .invalid("\(place).\(key) must be a list")
        }
    }
}
