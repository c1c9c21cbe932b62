import KubeClient

/// What a backup selects, with Velero's flags and Velero's validation (plus: unknown resource names are an error,
/// where Velero silently matches nothing).
public struct ResourceFilter: Sendable, Codable, Equatable {
    /// Namespace names or globs ("*", "prod-*"); empty means all.
    public var includeNamespaces: [String] = []
    public var excludeNamespaces: [String] = []
    /// Old-style resource filters (resource names, "resource.group", short names or kinds; "*" for all).
    public var includeResources: [String] = []
    public var excludeResources: [String] = []
    /// Old-style switch: nil = cluster-scoped objects only when all namespaces are backed up (plus the PVs of
    /// backed-up claims and the CRDs of backed-up custom resources); true = all; false = none.
    public var includeClusterResources: Bool?
    /// New-style scoped filters; they cannot be mixed with the old style.
    public var includeClusterScopedResources: [String] = []
    public var excludeClusterScopedResources: [String] = []
    public var includeNamespaceScopedResources: [String] = []
    public var excludeNamespaceScopedResources: [String] = []
    public var labelSelector: String?
    /// Objects matching any of these are selected.
    public var orLabelSelectors: [String] = []

    public init() {}

    /// Whether the new-style scoped filters are used.
    public var usesNewStyle: Bool {
        !(includeClusterScopedResources.isEmpty && excludeClusterScopedResources.isEmpty
            && includeNamespaceScopedResources.isEmpty && excludeNamespaceScopedResources.isEmpty)
    }

    /// Whether the old-style resource filters (or the cluster-resources switch) are used.
    public var usesOldStyle: Bool {
        !(includeResources.isEmpty && excludeResources.isEmpty) || includeClusterResources != nil
    }

    /// Checks the filter on its own (no cluster needed).
    /// What is wrong with a pair of `--include-<name>`/`--exclude-<name>` lists, as Velero's rules and stricter:
    /// '*' excluded, '*' beside other names, a name on both sides. Nil when nothing is.
    public static func listProblem(_ name: String, includes: [String], excludes: [String]) -> String? {
        if excludes.contains("*") { return "--exclude-\(name) cannot contain '*'" }
        if includes.contains("*") && includes.count > 1 {
            return
                "--include-\(name) '\(includes.joined(separator: ","))': '*' already includes everything and cannot be combined with other names"
        }
        if let both = includes.first(where: { $0 != "*" && excludes.contains($0) }) {
            return "'\(both)' is in both --include-\(name) and --exclude-\(name)"
        }
        return nil
    }

    public func validate() throws(FilterError) {
        if usesNewStyle && usesOldStyle {
            throw .invalid(
                "--include-resources, --exclude-resources and --include-cluster-resources cannot be combined with the scoped filters (--include/--exclude-cluster-scoped-resources, --include/--exclude-namespace-scoped-resources)"
            )
        }
        if labelSelector != nil && !orLabelSelectors.isEmpty {
            throw .invalid("--selector and --or-selector cannot both be given")
        }
        for (name, includes, excludes) in [
            ("namespaces", includeNamespaces, excludeNamespaces), ("resources", includeResources, excludeResources),
            ("cluster-scoped-resources", includeClusterScopedResources, excludeClusterScopedResources),
            ("namespace-scoped-resources", includeNamespaceScopedResources, excludeNamespaceScopedResources),
        ] {
            if let problem = Self.listProblem(name, includes: includes, excludes: excludes) { throw .invalid(problem) }
        }
        for namespace in includeNamespaces + excludeNamespaces where !NamespacePattern.isValid(namespace) {
            throw .invalid("'\(namespace)' is not a valid namespace name or pattern")
        }
        for selector in [labelSelector].compactMap({ $0 }) + orLabelSelectors {
            do { _ = try LabelSelector(parsing: selector) } catch { throw .invalid(error.description) }
        }
    }
}

/// Why a filter cannot be used.
public enum FilterError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalid(String)
    case unknownResource(String, suggestion: String?)

    public var description: String {
        switch self {
        case .invalid(let reason): "invalid filter: \(reason)"
        case .unknownResource(let name, let suggestion):
            "the cluster has no resource named '\(name)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                + "; run 'kubectl api-resources' to see the names"
        }
    }
}

/// Namespace names and globs ('*', '?', '[abc]', '[a-z]'), as Velero's namespace filters take them.
public enum NamespacePattern {
    /// Lowercase alphanumerics and '-', the glob characters, at most 63 characters; no '**' (Velero refuses it),
    /// and brackets closed and not empty.
    public static func isValid(_ pattern: String) -> Bool {
        guard !pattern.isEmpty, pattern.count <= 63, !pattern.contains("**"), Glob(pattern) != nil else { return false }
        return pattern.allSatisfy {
            ($0.isASCII && ($0.isLowercase || $0.isNumber)) || "-*?[]".contains($0)
        }
    }

    public static func matches(_ pattern: String, _ name: String) -> Bool {
        Glob(pattern)?.matches(name) ?? false
    }
}

/// Shell-style globs as Velero uses them (gobwas/glob): '*' any run of characters, '?' one character, '[abc]' and
/// '[a-z]' one of a set ('[!…]' or '[^…]' none of it). With separators, '*' and '?' stop at a separator and '**'
/// crosses them (Velero matches resource modifiers' `groupResource` with '.' as separator).
public struct Glob: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal(Character)
        case any, anyAcrossSeparators, one
        case set([ClosedRange<Character>], negated: Bool)
    }

    let tokens: [Token]
    let separators: Set<Character>

    /// nil when a bracket is unclosed or empty.
    public init?(_ pattern: String, separators: Set<Character> = []) {
        var tokens: [Token] = []
        let characters = Array(pattern)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            switch character {
            case "*":
                if index < characters.count && characters[index] == "*" {
                    index += 1
                    tokens.append(.anyAcrossSeparators)
                } else {
                    tokens.append(.any)
                }
            case "?": tokens.append(.one)
            case "[":
                guard let close = characters[index...].firstIndex(of: "]") else { return nil }
                var body = Array(characters[index..<close])
                index = close + 1
                let negated = body.first == "!" || body.first == "^"
                if negated { body.removeFirst() }
                guard !body.isEmpty else { return nil }
                var ranges: [ClosedRange<Character>] = []
                var position = 0
                while position < body.count {
                    if position + 2 < body.count && body[position + 1] == "-" && body[position] <= body[position + 2] {
                        ranges.append(body[position]...body[position + 2])
                        position += 3
                    } else {
                        ranges.append(body[position]...body[position])
                        position += 1
                    }
                }
                tokens.append(.set(ranges, negated: negated))
            case "]": return nil
            default: tokens.append(.literal(character))
            }
        }
        self.tokens = tokens
        self.separators = separators
    }

    public func matches(_ text: String) -> Bool {
        let name = Array(text)
        var memo: [Int: Bool] = [:]
        func match(_ i: Int, _ j: Int) -> Bool {
            let key = i * (name.count + 1) + j
            if let known = memo[key] { return known }
            let result: Bool
            if i == tokens.count {
                result = j == name.count
            } else {
                switch tokens[i] {
                case .any, .anyAcrossSeparators:
                    let crosses = tokens[i] == .anyAcrossSeparators
                    result =
                        match(i + 1, j)
                        || (j < name.count && (crosses || !separators.contains(name[j])) && match(i, j + 1))
                case .one: result = j < name.count && !separators.contains(name[j]) && match(i + 1, j + 1)
                case .literal(let character): result = j < name.count && name[j] == character && match(i + 1, j + 1)
                case .set(let ranges, let negated):
                    result =
                        j < name.count && ranges.contains { $0.contains(name[j]) } != negated
                        && match(i + 1, j + 1)
                }
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }
}
