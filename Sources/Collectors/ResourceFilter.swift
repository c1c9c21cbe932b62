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

    var usesNewStyle: Bool {
        !(includeClusterScopedResources.isEmpty && excludeClusterScopedResources.isEmpty
            && includeNamespaceScopedResources.isEmpty && excludeNamespaceScopedResources.isEmpty)
    }

    var usesOldStyle: Bool { !(includeResources.isEmpty && excludeResources.isEmpty) || includeClusterResources != nil }

    /// Checks the filter on its own (no cluster needed).
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
            if excludes.contains("*") { throw .invalid("--exclude-\(name) cannot contain '*'") }
            if includes.contains("*") && includes.count > 1 {
                throw .invalid(
                    "--include-\(name) '\(includes.joined(separator: ","))': '*' already includes everything and cannot be combined with other names"
                )
            }
            if let both = includes.first(where: { $0 != "*" && excludes.contains($0) }) {
                throw .invalid("'\(both)' is in both --include-\(name) and --exclude-\(name)")
            }
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

/// Namespace names and '*' globs.
enum NamespacePattern {
    static func isValid(_ pattern: String) -> Bool {
        guard !pattern.isEmpty, pattern.count <= 63 else { return false }
        return pattern.allSatisfy {
            ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "*" || $0 == "?"
        }
    }

    static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern)
        let n = Array(name)
        var memo: [Int: Bool] = [:]
        func match(_ i: Int, _ j: Int) -> Bool {
            if let known = memo[i * (n.count + 1) + j] { return known }
            let result: Bool
            if i == p.count {
                result = j == n.count
            } else if p[i] == "*" {
                result = match(i + 1, j) || (j < n.count && match(i, j + 1))
            } else {
                result = j < n.count && (p[i] == "?" || p[i] == n[j]) && match(i + 1, j + 1)
            }
            memo[i * (n.count + 1) + j] = result
            return result
        }
        return match(0, 0)
    }
}
