import BackupModel
import Testing

@Suite("Resource filters on their own")
struct ResourceFilterTests {
    static func filter(_ configure: (inout ResourceFilter) -> Void) -> ResourceFilter {
        var filter = ResourceFilter()
        configure(&filter)
        return filter
    }

    static let invalidFilters: [(ResourceFilter, String)] = [
        (
            filter {
                $0.includeResources = ["pods"]; $0.includeClusterScopedResources = ["pv"]
            }, "cannot be combined"
        ),
        (
            filter {
                $0.labelSelector = "a=b"; $0.orLabelSelectors = ["c=d"]
            }, "cannot both be given"
        ),
        (filter { $0.excludeNamespaces = ["*"] }, "--exclude-namespaces cannot contain '*'"),
        (
            filter {
                $0.includeNamespaces = ["a"]; $0.excludeNamespaces = ["a"]
            }, "'a' is in both --include-namespaces and --exclude-namespaces"
        ),
        (
            filter {
                $0.includeResources = ["configmaps"]; $0.excludeResources = ["configmaps"]
            }, "'configmaps' is in both --include-resources and --exclude-resources"
        ),
        (filter { $0.includeNamespaces = ["*", "demo"] }, "--include-namespaces '*,demo': '*' already includes"),
        (filter { $0.includeResources = ["pods", "*"] }, "--include-resources 'pods,*': '*' already includes"),
        (filter { $0.includeNamespaces = ["Bad_NS"] }, "not a valid namespace"),
        (filter { $0.labelSelector = "app in prod" }, "invalid label selector"),
    ]

    @Test("invalid filters are refused with Velero's rules", arguments: invalidFilters)
    func invalid(filter: ResourceFilter, message: String) {
        let error = #expect(throws: FilterError.self) { try filter.validate() }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test(
        "namespace patterns",
        arguments: [
            ("prod-*", "prod-a", true), ("prod-*", "dev", false), ("*", "x", true), ("d?v", "dev", true),
            ("dev", "dev2", false), ("team-[ab]", "team-a", true), ("team-[ab]", "team-c", false),
            ("v[0-9]", "v7", true), ("v[!0-9]", "v7", false), ("team-[ab", "team-a", false),
        ])
    func patterns(pattern: String, name: String, expected: Bool) {
        #expect(NamespacePattern.matches(pattern, name) == expected)
    }
}
