import Foundation
import Yams

/// YAML (one or many documents) to JSON values, resolving scalars as Kubernetes' YAML reader does.
enum YAMLConversion {
    static func documents(_ text: String) throws -> [JSONValue] {
        let parser = try Parser(yaml: text)
        var documents: [JSONValue] = []
        while let node = try parser.nextRoot() {
            let value = json(from: node)
            if value != .null { documents.append(value) }
        }
        return documents
    }

    static func json(from node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return .bool(node.bool ?? false)
            case .int:
                if isJSONNumber(scalar.string) { return .number(scalar.string) }
                return node.int.map { .number(String($0)) } ?? .string(scalar.string)
            case .float:
                if isJSONNumber(scalar.string) { return .number(scalar.string) }
                if let value = node.float, value.isFinite { return .number(String(value)) }
                return .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                if key.string == "<<", case .mapping(let merged) = value {
                    for (mergedKey, mergedValue) in merged where members[mergedKey.string ?? ""] == nil {
                        members[mergedKey.string ?? ""] = json(from: mergedValue)
                    }
                    continue
                }
                members[key.string ?? ""] = json(from: value)
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(sequence.map { json(from: $0) })
        case .alias:
            return .null
        }
    }

    private static func isJSONNumber(_ text: String) -> Bool {
        (try? JSONValue.parse(text)).map { if case .number = $0 { true } else { false } } ?? false
    }
}

/// Fixture files: YAML or JSON, single objects, multi-document YAML, or `kind: List` / `*List` objects.
public enum Fixtures {
    /// The objects in `path` (a file, or a directory whose .yaml/.yml/.json files are read in name order).
    public static func objects(at path: String) throws -> [JSONValue] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw KubeSimError.fixture(path: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted().filter {
                $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json")
            }
            return try names.flatMap { try objects(at: path + "/" + $0) }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeSimError.fixture(path: path, reason: "cannot read the file")
        }
        do {
            return try objects(in: String(decoding: data, as: UTF8.self))
        } catch let error as KubeSimError {
            throw error
        } catch {
            throw KubeSimError.fixture(path: path, reason: "\(error)")
        }
    }

    /// The objects in YAML or JSON text; lists are flattened.
    public static func objects(in text: String) throws -> [JSONValue] {
        let trimmed = text.drop { $0.isWhitespace }
        let documents: [JSONValue]
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            documents = [try JSONValue.parse(text)]
        } else {
            documents = try YAMLConversion.documents(text)
        }
        return documents.flatMap(flatten)
    }

    private static func flatten(_ value: JSONValue) -> [JSONValue] {
        if case .array(let elements) = value { return elements.flatMap(flatten) }
        if let kind = value["kind"]?.stringValue, kind.hasSuffix("List"), case .array(let items)? = value["items"] {
            return items.flatMap(flatten)
        }
        return [value]
    }
}

/// Errors of the simulator's own API (not HTTP answers).
public enum KubeSimError: Error, CustomStringConvertible, Sendable {
    case fixture(path: String, reason: String)
    case unknownKind(kind: String, apiVersion: String)
    case rejected(name: String, kind: String, message: String)
    case invalidPath(String)

    public var description: String {
        switch self {
        case .fixture(let path, let reason): "cannot load fixtures from \(path): \(reason)"
        case .unknownKind(let kind, let apiVersion):
            "no resource serves kind \"\(kind)\" in apiVersion \"\(apiVersion)\" (create its CustomResourceDefinition first)"
        case .rejected(let name, let kind, let message): "\(kind) \"\(name)\" was rejected: \(message)"
        case .invalidPath(let path): "not an object path: \(path) (expected e.g. /api/v1/namespaces/NS/configmaps/NAME)"
        }
    }
}
