import Collectors

/// What a restore selects and how it treats what it finds, with Velero's flags.
public struct RestoreOptions: Sendable, Codable, Equatable {
    public enum ExistingResourcePolicy: String, Sendable, Codable, CaseIterable {
        /// Leave an existing object alone; record a warning when it differs from the backup.
        case none
        /// Patch an existing object to match the backup.
        case update
    }

    public var includeNamespaces: [String] = []
    public var excludeNamespaces: [String] = []
    public var includeResources: [String] = []
    public var excludeResources: [String] = []
    /// Source namespace → target namespace.
    public var namespaceMappings: [String: String] = [:]
    public var labelSelector: String?
    public var orLabelSelectors: [String] = []
    public var existingResourcePolicy: ExistingResourcePolicy = .none
    public var preserveNodePorts = false
    /// nil: cluster-scoped objects are restored when all namespaces are; false: never; true: always.
    public var includeClusterResources: Bool?
    public var statusIncludeResources: [String] = []
    /// Resources whose status is not restored even when included.
    public var statusExcludeResources: [String] = []
    /// The ConfigMap, in `veleroNamespace` of the target cluster, holding resource modifier rules.
    public var resourceModifierConfigMap: String?
    /// Where Velero's configuration lives in the target cluster: the resource modifier ConfigMap and the
    /// change-storage-class / change-image-name plugin ConfigMaps.
    public var veleroNamespace = "velero"
    /// How long to wait for a target namespace that is being deleted to be gone before recreating it (Velero's
    /// resourceTerminatingTimeout, 10 minutes).
    public var namespaceTerminatingTimeout: Double = 600
    /// The Restore's `spec.hooks` rules (init containers, post-restore exec hooks); pods' annotations work without.
    public var hooks: RestoreHookRules?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case includeNamespaces, excludeNamespaces, includeResources, excludeResources, namespaceMappings
        case labelSelector, orLabelSelectors, existingResourcePolicy, preserveNodePorts, includeClusterResources
        case statusIncludeResources, statusExcludeResources, resourceModifierConfigMap, veleroNamespace
        case namespaceTerminatingTimeout, hooks
    }

    /// Records written before a field existed decode with its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try container.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.includeNamespaces, &includeNamespaces)
        try read(.excludeNamespaces, &excludeNamespaces)
        try read(.includeResources, &includeResources)
        try read(.excludeResources, &excludeResources)
        try read(.namespaceMappings, &namespaceMappings)
        labelSelector = try container.decodeIfPresent(String.self, forKey: .labelSelector)
        try read(.orLabelSelectors, &orLabelSelectors)
        try read(.existingResourcePolicy, &existingResourcePolicy)
        try read(.preserveNodePorts, &preserveNodePorts)
        includeClusterResources = try container.decodeIfPresent(Bool.self, forKey: .includeClusterResources)
        hooks = try container.decodeIfPresent(RestoreHookRules.self, forKey: .hooks)
        try read(.statusIncludeResources, &statusIncludeResources)
        try read(.statusExcludeResources, &statusExcludeResources)
        resourceModifierConfigMap = try container.decodeIfPresent(String.self, forKey: .resourceModifierConfigMap)
        try read(.veleroNamespace, &veleroNamespace)
        try read(.namespaceTerminatingTimeout, &namespaceTerminatingTimeout)
    }

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
