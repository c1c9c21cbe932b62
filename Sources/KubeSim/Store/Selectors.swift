import Foundation

/// A label selector in the API's text form: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`,
/// `a>3`, `a<3`; commas separate requirements that must all hold.
public struct LabelSelector: Sendable, Equatable {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
        case greaterThan(String, Int)
        case lessThan(String, Int)
    }

    public var requirements: [Requirement]

    public var isEmpty: Bool { requirements.isEmpty }

    public init(requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// Parses `text`; throws a message like the real server's "unable to parse requirement" error.
    public init(parsing text: String) throws(SelectorError) {
        requirements = []
        for clause in Self.splitClauses(text) {
            let trimmed = clause.trimmed
            if trimmed.isEmpty { continue }
            requirements.append(try Self.parseRequirement(Substring(trimmed)))
        }
    }

    public func matches(_ labels: [String: String]) -> Bool {
        for requirement in requirements {
            switch requirement {
            case .equals(let key, let value): if labels[key] != value { return false }
            case .notEquals(let key, let value): if labels[key] == value { return false }
            case .isIn(let key, let values):
                guard let value = labels[key], values.contains(value) else { return false }
            case .notIn(let key, let values): if let value = labels[key], values.contains(value) { return false }
            case .exists(let key): if labels[key] == nil { return false }
            case .doesNotExist(let key): if labels[key] != nil { return false }
            case .greaterThan(let key, let bound):
                guard let value = labels[key].flatMap({ Int($0) }), value > bound else { return false }
            case .lessThan(let key, let bound):
                guard let value = labels[key].flatMap({ Int($0) }), value < bound else { return false }
            }
        }
        return true
    }

    /// Splits on commas outside parentheses.
    private static func splitClauses(_ text: String) -> [Substring] {
        var clauses: [Substring] = []
        var depth = 0
        var start = text.startIndex
        for index in text.indices {
            switch text[index] {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                clauses.append(text[start..<index])
                start = text.index(after: index)
            default: break
            }
        }
        clauses.append(text[start...])
        return clauses
    }

    private static func parseRequirement(_ clause: Substring) throws(SelectorError) -> Requirement {
        let failure = SelectorError(
            message: "unable to parse requirement: found '\(clause)', expected: in, notin, =, ==, !=, gt, lt")
        if clause.hasPrefix("!") {
            let key = clause.dropFirst().trimmed
            try validateKey(key)
            return .doesNotExist(key)
        }
        for (op, make) in [
            ("!=", { (key: String, value: String) in Requirement.notEquals(key, value) }),
            ("==", { Requirement.equals($0, $1) }), ("=", { Requirement.equals($0, $1) }),
        ] {
            if let range = clause.range(of: op) {
                let key = clause[..<range.lowerBound].trimmed
                let value = clause[range.upperBound...].trimmed
                try validateKey(key)
                try validateValue(value)
                return make(key, value)
            }
        }
        for (op, greater) in [(">", true), ("<", false)] {
            if let range = clause.range(of: op) {
                let key = clause[..<range.lowerBound].trimmed
                try validateKey(key)
                guard let bound = Int(clause[range.upperBound...].trimmed) else { throw failure }
                return greater ? .greaterThan(key, bound) : .lessThan(key, bound)
            }
        }
        let words = clause.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        if words.count == 1 {
            let key = String(words[0])
            try validateKey(key)
            return .exists(key)
        }
        guard words.count == 3, words[1] == "in" || words[1] == "notin" else { throw failure }
        let key = String(words[0])
        try validateKey(key)
        let list = words[2].trimmed
        guard list.hasPrefix("("), list.hasSuffix(")") else {
            throw SelectorError(message: "unable to parse requirement: found '\(list)', expected: '('")
        }
        let values = list.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false).map(\.trimmed)
        for value in values { try validateValue(value) }
        return words[1] == "in" ? .isIn(key, Set(values)) : .notIn(key, Set(values))
    }

    private static func validateKey(_ key: String) throws(SelectorError) {
        let problems = Validation.labelKey(key)
        if key.isEmpty || !problems.isEmpty {
            throw SelectorError(
                message: "unable to parse requirement: invalid label key \"\(key)\": "
                    + (problems.first ?? "name part must be non-empty"))
        }
    }

    private static func validateValue(_ value: String) throws(SelectorError) {
        if let problem = Validation.labelValue(value).first {
            throw SelectorError(message: "unable to parse requirement: invalid label value: \"\(value)\": \(problem)")
        }
    }
}

/// A field selector: `field=value`, `field==value`, `field!=value`, comma-separated.
public struct FieldSelector: Sendable, Equatable {
    public struct Requirement: Sendable, Equatable {
        public var field: String
        public var value: String
        public var negated: Bool
    }

    public var requirements: [Requirement] = []
    public var isEmpty: Bool { requirements.isEmpty }

    /// Parses `text`, accepting only the fields in `supported`.
    init(parsing text: String, supported: Set<String>) throws(SelectorError) {
        for clause in text.split(separator: ",") {
            let trimmed = clause.trimmed
            if trimmed.isEmpty { continue }
            let negated = trimmed.contains("!=")
            let parts =
                negated
                ? trimmed.components(separatedBy: "!=")
                : trimmed.replacingOccurrences(of: "==", with: "=").components(separatedBy: "=")
            guard parts.count == 2 else {
                throw SelectorError(message: "invalid selector: '\(text)'; can't understand '\(trimmed)'")
            }
            let field = parts[0].trimmed
            guard supported.contains(field) else {
                throw SelectorError(message: "field label not supported: \(field)")
            }
            requirements.append(Requirement(field: field, value: parts[1].trimmed, negated: negated))
        }
    }

    func matches(_ lookup: (String) -> String?) -> Bool {
        requirements.allSatisfy { requirement in
            (lookup(requirement.field) ?? "") == requirement.value ? !requirement.negated : requirement.negated
        }
    }
}

public struct SelectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension StringProtocol {
    var trimmed: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
