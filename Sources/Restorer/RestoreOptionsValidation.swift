import BackupModel

extension RestoreOptions {
    /// Checks what needs no cluster: namespace names and patterns, and Velero's never-restored resources.
    public func validate() throws(RestoreError) {
        for (flag, patterns) in [
            ("--include-namespaces", includeNamespaces), ("--exclude-namespaces", excludeNamespaces),
        ] {
            for pattern in patterns where pattern != "*" && !NamespacePattern.isValid(pattern) {
                throw .invalidOption("\(flag) '\(pattern)' is not a valid namespace name or pattern")
            }
        }
        for (name, includes, excludes) in [
            ("namespaces", includeNamespaces, excludeNamespaces), ("resources", includeResources, excludeResources),
        ] {
            if let problem = ResourceFilter.listProblem(name, includes: includes, excludes: excludes) {
                throw .invalidOption(problem)
            }
        }
        for name in includeResources where ObjectTransform.neverRestored.contains(name.lowercased()) {
            throw .invalidOption("--include-resources '\(name)': \(name) are non-restorable resources")
        }
        // The same rules as `parseNamespaceMappings`, for mappings that did not come through it (a Restore's
        // `spec.namespaceMapping`): an invalid target fails object by object, and two sources on one target merge.
        var sources: [String: String] = [:]
        for (source, target) in namespaceMappings.sorted(by: { $0.key < $1.key }) {
            guard Self.isNamespaceName(source), Self.isNamespaceName(target) else {
                throw .invalidOption(
                    "namespace mapping '\(source):\(target)' (--namespace-mappings, spec.namespaceMapping) must map "
                        + "a valid namespace name to a valid namespace name")
            }
            if let other = sources[target] {
                throw .invalidOption(
                    "namespace mapping: '\(other)' and '\(source)' are both mapped to '\(target)' "
                        + "(--namespace-mappings, spec.namespaceMapping)")
            }
            sources[target] = source
        }
        guard namespaceTerminatingTimeout >= 0 else {
            throw .invalidOption("the namespace terminating timeout must not be negative")
        }
    }

    /// Parses `a:b,c:d`, refusing malformed pairs, invalid names and two sources mapped to one target.
    public static func parseNamespaceMappings(_ text: String) throws(RestoreError) -> [String: String] {
        var mappings: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, isNamespaceName(parts[0]), isNamespaceName(parts[1]) else {
                throw .invalidOption("namespace mapping '\(pair)' must be source:target with valid namespace names")
            }
            guard mappings[parts[0]] == nil else { throw .invalidOption("namespace '\(parts[0])' is mapped twice") }
            mappings[parts[0]] = parts[1]
        }
        guard Set(mappings.values).count == mappings.count else {
            throw .invalidOption("two namespaces are mapped to the same target")
        }
        return mappings
    }

    static func isNamespaceName(_ name: String) -> Bool {
        guard (1...63).contains(name.count), let first = name.first, let last = name.last else { return false }
        let allowed = name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
        return allowed && first != "-" && last != "-"
    }
}

/// Why a restore could not start.
public enum RestoreError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidOption(String)
    case unknownResource(String)
    case crdNotEstablished(String)

    public var description: String {
        switch self {
        case .invalidOption(let reason): "invalid restore option: \(reason)"
        case .unknownResource(let name): "the backup holds no resource named '\(name)'"
        case .crdNotEstablished(let name): "custom resource definition \(name) was created but never became servable"
        }
    }
}
