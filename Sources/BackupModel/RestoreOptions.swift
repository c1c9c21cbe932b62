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
}
