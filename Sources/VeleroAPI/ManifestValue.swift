import Foundation
import Yams

/// A Kubernetes object as a tree of JSON values, for manifests that `install` writes or applies, objects that
/// `-o json|yaml` prints, and objects embedded in specs (restore hooks' init containers): written as JSON or YAML
/// with keys in sorted order (the same input gives the same output), booleans and numbers kept as such (which
/// Foundation's untyped parse does not promise).
/// (KubeSim's `JSONValue` is alike, but the simulator is not to be linked into the shipped binary.)
public enum ManifestValue: Codable, Equatable, Sendable, ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByArrayLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral
{
    public typealias Key = String
    public typealias Value = ManifestValue
    public typealias ArrayLiteralElement = ManifestValue

    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([ManifestValue])
    case object([String: ManifestValue])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(arrayLiteral elements: ManifestValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, ManifestValue)...) {
        self = .object(Dictionary(elements) { $1 })
    }

    /// The value of `key` in an object (nil otherwise); setting on a non-object does nothing.
    public subscript(key: String) -> ManifestValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members[key]
        }
        set {
            guard case .object(var members) = self else { return }
            members[key] = newValue
            self = .object(members)
        }
    }

    public var string: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// The value as `-o json` (pretty-printed) or `-o yaml` prints it, ending in a newline.
    public func rendered(yaml: Bool) throws -> String {
        if yaml { return try YAMLEncoder().encode(self) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The JSON bytes (keys sorted).
    public var json: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data("null".utf8)) }

    /// Decodes JSON bytes (e.g. an encoded CRD).
    public static func parse(_ json: [UInt8]) throws -> ManifestValue {
        try JSONDecoder().decode(ManifestValue.self, from: Data(json))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ManifestValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ManifestValue].self))
        }
    }

    private struct MemberName: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var container = encoder.container(keyedBy: MemberName.self)
            for key in members.keys.sorted() {
                try container.encode(members[key]!, forKey: MemberName(stringValue: key))
            }
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }
}
