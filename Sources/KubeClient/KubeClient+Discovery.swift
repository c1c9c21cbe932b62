/// Discovery of every group, version and resource the server serves.
extension KubeClient {
    private struct APIVersions: Decodable { var versions: [String] }
    private struct APIGroupList: Decodable {
        struct Group: Decodable {
            struct Version: Decodable { var groupVersion: String; var version: String }
            var name: String
            var versions: [Version]
            var preferredVersion: Version?
        }
        var groups: [Group]
    }
    private struct APIResourceList: Decodable {
        struct Resource: Decodable {
            var name: String
            var singularName: String?
            var namespaced: Bool
            var kind: String
            var verbs: [String]?
            var shortNames: [String]?
        }
        var resources: [Resource]
    }

    /// Every top-level resource in each group's preferred version (subresources like pods/log left out).
    public func discover() async throws -> [APIResource] {
        let core = try await get(APIVersions.self, "/api")
        let groups = try await get(APIGroupList.self, "/apis")
        var groupVersions: [(group: String, version: String)] = core.versions.prefix(1).map { ("", $0) }
        for group in groups.groups {
            guard let version = group.preferredVersion ?? group.versions.first else { continue }
            groupVersions.append((group.name, version.version))
        }
        return try await withThrowingTaskGroup(of: [APIResource].self) { tasks in
            for (group, version) in groupVersions {
                tasks.addTask {
                    let path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
                    let list = try await self.get(APIResourceList.self, path)
                    return list.resources.filter { !$0.name.contains("/") }.map {
                        APIResource(
                            group: group, version: version, name: $0.name, singularName: $0.singularName ?? "",
                            kind: $0.kind, namespaced: $0.namespaced, verbs: $0.verbs ?? [],
                            shortNames: $0.shortNames ?? [])
                    }
                }
            }
            var all: [APIResource] = []
            for try await resources in tasks { all += resources }
            return all.sorted { ($0.group, $0.name) < ($1.group, $1.name) }
        }
    }
}
