import KubeClient

/// Which pods a hook rule of a Backup's or Restore's `spec.hooks.resources` applies to, as Velero matches them:
/// the namespace (names or globs; a restore matches the namespace a pod is restored into), the resource "pods"
/// among the included and not among the excluded ones, and the label selector.
public struct HookPodSelector: Codable, Sendable, Equatable {
    public var includedNamespaces: [String]
    public var excludedNamespaces: [String]
    public var includedResources: [String]
    public var excludedResources: [String]
    /// A label selector in its text form (`a=b,c in (x)`), already checked.
    public var labelSelector: String?

    public init(
        includedNamespaces: [String] = [], excludedNamespaces: [String] = [], includedResources: [String] = [],
        excludedResources: [String] = [], labelSelector: String? = nil
    ) {
        self.includedNamespaces = includedNamespaces
        self.excludedNamespaces = excludedNamespaces
        self.includedResources = includedResources
        self.excludedResources = excludedResources
        self.labelSelector = labelSelector
    }

    private static let podNames: Set<String> = ["*", "pods", "pod", "po", "pods."]

    public func applies(namespace: String, labels: [String: String]) -> Bool {
        if !includedNamespaces.isEmpty
            && !includedNamespaces.contains(where: { NamespacePattern.matches($0, namespace) })
        {
            return false
        }
        if excludedNamespaces.contains(where: { NamespacePattern.matches($0, namespace) }) { return false }
        if !includedResources.isEmpty && !includedResources.contains(where: Self.podNames.contains) { return false }
        if excludedResources.contains(where: { $0 != "*" && Self.podNames.contains($0) }) { return false }
        guard let labelSelector else { return true }
        return (try? LabelSelector(parsing: labelSelector))?.matches(labels) ?? false
    }

    /// Checks the lists and the selector; the reasons name `field` (e.g. `spec.hooks.resources[0]`).
    public static func check(
        field: String, includedNamespaces: [String]?, excludedNamespaces: [String]?, includedResources: [String]?,
        excludedResources: [String]?, labelSelector: Result<String, some Error>?, _ errors: inout [String]
    ) -> HookPodSelector {
        for (list, values) in [
            ("includedNamespaces", includedNamespaces), ("excludedNamespaces", excludedNamespaces),
            ("includedResources", includedResources), ("excludedResources", excludedResources),
        ] {
            for (position, value) in (values ?? []).enumerated() where value.isEmpty || value.contains(" ") {
                errors.append("\(field).\(list)[\(position)] '\(value)' is not a name or pattern")
            }
        }
        var selector: String?
        switch labelSelector {
        case .success(let text):
            do {
                _ = try LabelSelector(parsing: text)
                selector = text
            } catch {
                errors.append("\(field).labelSelector is invalid: \(error)")
            }
        case .failure(let error): errors.append("\(field).labelSelector is invalid: \(error)")
        case nil: break
        }
        return HookPodSelector(
            includedNamespaces: includedNamespaces ?? [], excludedNamespaces: excludedNamespaces ?? [],
            includedResources: includedResources ?? [], excludedResources: excludedResources ?? [],
            labelSelector: selector)
    }
}
