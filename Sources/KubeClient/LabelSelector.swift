/// A parsed label selector (`app=web,tier!=db,env in (a,b),!legacy`), for validation and local matching.
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, [String])
        case notIn(String, [String])
        case exists(String)
        case notExists(String)
    }

    public var requirements: [Requirement]
    /// The text as given, which is what goes to the server.
    public var description: String

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var selector: String
        public var reason: String
        public var description: String { "invalid label selector '\(selector)': \(reason)" }
    }

    public init(parsing text: String) throws(ParseError) {
        description = text
        requirements = []
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard depth == 0 else { throw ParseError(selector: text, reason: "unbalanced parentheses") }
        if !current.isEmpty || !parts.isEmpty { parts.append(current) }
        for raw in parts {
            let part = raw.trimmingCharacters(in: .whitespaces)
            guard !part.isEmpty else { throw ParseError(selector: text, reason: "empty requirement") }
            requirements.append(try Self.requirement(part, selector: text))
        }
    }

    private static func requirement(_ part: String, selector: String) throws(ParseError) -> Requirement {
        func key(_ raw: Substring) throws(ParseError) -> String {
            let key = raw.trimmingCharacters(in: .whitespaces)
            guard isValidKey(key) else {
                throw ParseError(selector: selector, reason: "'\(key)' is not a valid label key")
            }
            return key
        }
        func value(_ raw: Substring) throws(ParseError) -> String {
            let value = raw.trimmingCharacters(in: .whitespaces)
            guard isValidValue(value) else {
                throw ParseError(selector: selector, reason: "'\(value)' is not a valid label value")
            }
            return value
        }
        for (op, isNot) in [(" notin ", true), (" in ", false)] {
            if let range = part.range(of: op) {
                let valuesText = part[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard valuesText.hasPrefix("("), valuesText.hasSuffix(")") else {
                    throw ParseError(selector: selector, reason: "'\(part)' needs a parenthesised value list")
                }
                let values = try valuesText.dropFirst().dropLast().split(separator: ",").map {
                    (raw) throws(ParseError) in try value(raw)
                }
                guard !values.isEmpty else {
                    throw ParseError(selector: selector, reason: "'\(part)' has an empty value list")
                }
                return isNot
                    ? .notIn(try key(part[..<range.lowerBound]), values)
                    : .isIn(try key(part[..<range.lowerBound]), values)
            }
        }
        if let range = part.range(of: "!=") {
            return .notEquals(try key(part[..<range.lowerBound]), try value(part[range.upperBound...]))
        }
        if let range = part.range(of: "==") {
            return .equals(try key(part[..<range.lowerBound]), try value(part[range.upperBound...]))
        }
        if let range = part.range(of: "=") {
            return .equals(try key(part[..<range.lowerBound]), try value(part[range.upperBound...]))
        }
        if part.hasPrefix("!") { return .notExists(try key(part.dropFirst())) }
        return .exists(try key(part[...]))
    }

    /// Whether an object with `labels` is selected.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .notExists(let key): labels[key] == nil
            }
        }
    }

    /// Label keys: an optional DNS-subdomain prefix and '/', then a name of up to 63 alphanumerics, '-', '_', '.'.
    static func isValidKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last, isValidValue(String(name)), !name.isEmpty else { return false }
        if parts.count == 2 {
            let prefix = parts[0]
            guard !prefix.isEmpty, prefix.count <= 253,
                prefix.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." })
            else { return false }
        }
        return true
    }

    static func isValidValue(_ value: String) -> Bool {
        guard value.count <= 63 else { return false }
        if value.isEmpty { return true }
        guard let first = value.first, let last = value.last, first.isLetter || first.isNumber,
            last.isLetter || last.isNumber
        else { return false }
        return value.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" || $0 == "." }
    }
}
