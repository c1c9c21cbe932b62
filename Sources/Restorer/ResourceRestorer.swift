import BackupModel
import Collectors
import Foundation
import KubeClient
import Logging

/// The backup and the restore a restore labels its objects with.
public struct RestoreNames: Sendable, Equatable {
    public var backup: String
    public var restore: String

    public init(backup: String, restore: String) {
        self.backup = backup
        self.restore = restore
    }
}

/// Restores a collected manifest into a cluster: tier by tier (`RestoreOrder`), objects within a tier applied in
/// parallel by at most `width` workers (Velero applies one object at a time), CRDs waited for until served, existing
/// objects left or updated per policy, and one failing object never stopping the others.
public struct ResourceRestorer: Sendable {
    public let client: KubeClient
    public let reader: ResourceReader
    public var width: Int
    private let logger = Logger(label: "velero-cas.restore")

    public init(client: KubeClient, reader: ResourceReader, width: Int = 16) {
        self.client = client
        self.reader = reader
        self.width = max(1, width)
    }

    /// One backed-up object to restore. It is transformed by the worker that applies it, so transforming (JSON work)
    /// overlaps with other objects' requests instead of stalling the tier before its first request.
    struct Item: Sendable {
        var resource: APIResource
        /// As backed up.
        var backup: [UInt8]
        /// Where it goes: the namespace after mappings.
        var namespace: String?
        var name: String
    }

    /// Restores the manifest's selected objects. With `names`, every restored object is labelled with the backup
    /// and the restore (Velero's `velero.io/backup-name` and `velero.io/restore-name`).
    public func restore(_ manifest: ResourceManifest, options: RestoreOptions, names: RestoreNames? = nil)
        async throws -> RestoreResult
    {
        try await restore(manifest, options: options, prepared: try await prepare(options, names: names))
    }

    /// What a restore learns before it writes anything: the options are valid, the cluster's API, and Velero's
    /// configuration there (resource modifiers, plugin ConfigMaps). Bad configuration fails here, before any object
    /// or volume is restored (Velero's FailedValidation).
    public struct Prepared: Sendable {
        var transform: ObjectTransform
        var resources: [APIResource]
    }

    public func prepare(_ options: RestoreOptions, names: RestoreNames? = nil) async throws -> Prepared {
        try options.validate()
        var transform = ObjectTransform(
            namespaceMappings: options.namespaceMappings, preserveNodePorts: options.preserveNodePorts,
            statusIncludedResources: Set(options.statusIncludeResources),
            statusExcludedResources: Set(options.statusExcludeResources),
            restoreLabels: names.map { RestoreLabels.labels(backup: $0.backup, restore: $0.restore) } ?? [:])
        let resources = try await client.discover()
        transform.modifiers = try await loadModifiers(options, resources: resources)
        transform.restoreHooks = options.hooks ?? RestoreHookRules()
        transform.plugins = try await PluginConfiguration.load(
            client: client, namespace: options.veleroNamespace, resources: resources)
        return Prepared(transform: transform, resources: resources)
    }

    public func restore(_ manifest: ResourceManifest, options: RestoreOptions, prepared: Prepared) async throws
        -> RestoreResult
    {
        let clock = ContinuousClock.now
        var transform = prepared.transform
        let selectorTexts: [String] = (options.labelSelector.map { [$0] } ?? []) + options.orLabelSelectors
        let selectors = try selectorTexts.map { (text: String) throws -> LabelSelector in
            do { return try LabelSelector(parsing: text) } catch { throw RestoreError.invalidOption("\(error)") }
        }
        let streams = try Self.selectStreams(manifest.streams, options: options)
        let clusterWanted =
            options.includeClusterResources
            ?? (options.includeNamespaces.isEmpty || options.includeNamespaces.contains("*"))
        let customResources = Set(
            streams.filter { $0.resource.namespaced && !ResourceCollector.builtInGroups.contains($0.resource.group) }
                .map(\.resource.qualifiedName))
        var results: [RestoreItemResult] = []
        var warnings: [String] = []
        // The pods this restore created, as backed up: their hooks are accounted for even if one is deleted before
        // the hooks run.
        var restoredPods: [PostRestoreHooks.PodKey: PostRestoreHooks.PodState.Metadata] = [:]
        var targetResources = prepared.resources
        var existingNamespaces = Set<String>()
        var terminatingNamespaces = Set<String>()
        var stuckNamespaces: [String: String] = [:]
        try await client.listAll(try Self.namespacesResource(targetResources)) { page in
            existingNamespaces.formUnion(page.map(\.name))
            terminatingNamespaces.formUnion(page.filter { $0.metadata.deletionTimestamp != nil }.map(\.name))
        }

        for tier in RestoreOrder.tiers(streams.map(\.resource)) {
            var items: [Item] = []
            // The tier's streams are read at once (a round trip or more each on an object store), then taken in order.
            let tierStreams = streams.filter { tier.contains($0.resource) }
            let served = tierStreams.indices.filter {
                Self.target(for: tierStreams[$0].resource, in: targetResources) != nil
            }
            var read = [[[UInt8]]](repeating: [], count: tierStreams.count)
            for (slot, objects) in try await reader.objects(in: served.map { tierStreams[$0] }).enumerated() {
                read[served[slot]] = objects
            }
            for (position, stream) in tierStreams.enumerated() {
                guard let target = Self.target(for: stream.resource, in: targetResources) else {
                    results += stream.objects.map {
                        RestoreItemResult(
                            resource: stream.resource.qualifiedName, namespace: $0.namespace, name: $0.name,
                            outcome: .failed, message: "the target cluster does not serve \(stream.resource)")
                    }
                    continue
                }
                // A Namespace object is selected by its own name, like the objects in it.
                let isNamespace = stream.resource.group.isEmpty && stream.resource.name == "namespaces"
                let objects = read[position]
                read[position] = []
                for (location, bytes) in zip(stream.objects, objects) {
                    if stream.resource.name == "customresourcedefinitions" && !clusterWanted
                        && !customResources.contains(location.name)
                    {
                        continue
                    }
                    guard Self.namespaceSelected(isNamespace ? location.name : location.namespace, options: options)
                    else { continue }
                    if !selectors.isEmpty {
                        let labels = try KubeObject(json: bytes).metadata.labels ?? [:]
                        guard Self.labelsSelected(labels, selectors, any: options.labelSelector == nil) else {
                            continue
                        }
                    }
                    let namespace = location.namespace.map { options.namespaceMappings[$0] ?? $0 }
                    let name = isNamespace ? options.namespaceMappings[location.name] ?? location.name : location.name
                    items.append(Item(resource: target, backup: bytes, namespace: namespace, name: name))
                }
            }
            if tier.contains(where: { $0.group.isEmpty && $0.name == "secrets" }) {
                transform.serviceAccounts = try await serviceAccounts(targetResources)
            }
            // A target namespace being deleted is waited for, then created again, as Velero does.
            let waiting = Set(items.map(Self.targetNamespace)).intersection(terminatingNamespaces)
            if !waiting.isEmpty {
                for (namespace, reason) in try await waitUntilGone(waiting, options: options, targetResources) {
                    stuckNamespaces[namespace] = reason
                }
                terminatingNamespaces.subtract(waiting)
                existingNamespaces.subtract(waiting.filter { stuckNamespaces[$0] == nil })
            }
            items.removeAll { item in
                guard let reason = stuckNamespaces[Self.targetNamespace(item)] else { return false }
                results.append(
                    RestoreItemResult(
                        resource: item.resource.qualifiedName, namespace: item.namespace, name: item.name,
                        outcome: .failed, message: reason))
                return true
            }
            // Namespaces the tier's objects need but the backup did not select are created bare, as Velero does.
            let needed = Set(items.compactMap(\.namespace)).subtracting(existingNamespaces)
                .subtracting(items.filter { $0.resource.name == "namespaces" && $0.resource.group.isEmpty }.map(\.name))
            for namespace in needed.sorted() {
                try await client.create(
                    try Self.namespacesResource(targetResources), namespace: nil,
                    json: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(namespace)"}}"#.utf8))
                existingNamespaces.insert(namespace)
            }
            let tierResults = try await apply(items, policy: options.existingResourcePolicy, transform: transform)
            logger.info(
                "restored tier \(tier.map(\.qualifiedName).joined(separator: ", ")): \(tierResults.results.count { $0.outcome == .created }) created, \(tierResults.results.count { $0.outcome == .failed }) failed"
            )
            for failure in tierResults.results where failure.outcome == .failed {
                logger.warning(
                    "could not restore \(failure.resource) \(failure.namespace.map { "\($0)/" } ?? "")\(failure.name): \(failure.message ?? "")"
                )
            }
            results += tierResults.results
            warnings += tierResults.warnings
            restoredPods.merge(PostRestoreHooks.createdPods(items, results: tierResults.results)) { $1 }
            existingNamespaces.formUnion(
                items.filter { $0.resource.name == "namespaces" && $0.resource.group.isEmpty }.map(\.name))
            if tier.contains(where: { $0.name == "customresourcedefinitions" }) {
                let applied = Set(tierResults.results.filter { $0.outcome != .failed }.map(\.name))
                targetResources = try await waitForCustomResources(
                    items.filter { applied.contains($0.name) }, current: targetResources)
            }
        }
        let hooks = try await PostRestoreHooks(
            client: client, rules: options.hooks ?? RestoreHookRules(),
            restoreName: transform.restoreLabels["velero.io/restore-name"] ?? ""
        ).run(results, restoredPods: restoredPods)
        let failed = results.count { $0.outcome == .failed }
        var phase: RestoreResult.Phase =
            failed == 0 ? .completed : (failed == results.count ? .failed : .partiallyFailed)
        if phase == .completed && !hooks.errors.isEmpty { phase = .partiallyFailed }
        var result = RestoreResult(
            phase: phase, items: results, warnings: warnings + hooks.warnings,
            seconds: Double((ContinuousClock.now - clock) / .milliseconds(1)) / 1000)
        if !hooks.records.isEmpty { (result.hooks, result.hookErrors) = (hooks.records, hooks.errors) }
        return result
    }

    /// Applies one tier's objects with bounded parallelism.
    private func apply(_ items: [Item], policy: RestoreOptions.ExistingResourcePolicy, transform: ObjectTransform)
        async throws
        -> (results: [RestoreItemResult], warnings: [String])
    {
        try await withThrowingTaskGroup(of: (RestoreItemResult, String?).self) { group in
            var results: [RestoreItemResult] = []
            var warnings: [String] = []
            var next = 0
            func start() {
                let item = items[next]
                next += 1
                group.addTask { await self.applyOne(item, policy: policy, transform: transform) }
            }
            while next < min(width, items.count) { start() }
            while let (result, warning) = try await group.next() {
                results.append(result)
                if let warning { warnings.append(warning) }
                if next < items.count { start() }
            }
            return (results, warnings)
        }
    }

    private func applyOne(_ item: Item, policy: RestoreOptions.ExistingResourcePolicy, transform: ObjectTransform) async
        -> (RestoreItemResult, String?)
    {
        func result(_ outcome: RestoreItemResult.Outcome, _ message: String? = nil) -> RestoreItemResult {
            RestoreItemResult(
                resource: item.resource.qualifiedName, namespace: item.namespace, name: item.name, outcome: outcome,
                message: message)
        }
        let json: [UInt8]
        do {
            switch try transform.apply(item.backup, resource: item.resource) {
            case .restore(let transformed, _, _): json = transformed
            case .skip(let reason): return (result(.skipped, reason), nil)
            }
        } catch {
            return (result(.failed, "\(error)"), nil)
        }
        do {
            // The server's answer is not needed: not decoding it leaves the cores to the transforms and the server.
            _ = try await client.send(.post, item.resource.path(namespace: item.namespace), body: json)
            return (result(.created), nil)
        } catch let error as KubeAPIError where error.isAlreadyExists {
            do {
                let existing = try await client.get(item.resource, namespace: item.namespace, name: item.name)
                guard case .restore(let current, _, _) = try transform.apply(existing.json, resource: item.resource),
                    try Self.differs(current, json)
                else { return (result(.skippedExists, "already exists and matches the backup"), nil) }
                switch policy {
                case .none:
                    let label = "\(item.resource) \(item.namespace.map { "\($0)/" } ?? "")\(item.name)"
                    return (
                        result(.skippedExists, "already exists and differs from the backup"),
                        "\(label) already exists and differs from the backup; left as it is"
                    )
                case .update:
                    let patch = try MergePatch.diff(from: current, to: json)
                    try await client.mergePatch(item.resource, namespace: item.namespace, name: item.name, patch: patch)
                    return (result(.updated), nil)
                }
            } catch {
                return (result(.failed, "\(error)"), nil)
            }
        } catch {
            return (result(.failed, "\(error)"), nil)
        }
    }

    /// Compares the cluster's object (already put through the restore transform, so server-set fields don't count)
    /// with the backup's.
    static func differs(_ current: [UInt8], _ backup: [UInt8]) throws -> Bool {
        let a = try JSONSerialization.jsonObject(with: Data(current)) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: Data(backup)) as? NSDictionary
        return a != b
    }

    /// The namespace an item lives in, or that it is.
    static func targetNamespace(_ item: Item) -> String {
        item.resource.group.isEmpty && item.resource.name == "namespaces" ? item.name : item.namespace ?? ""
    }

    /// Waits, all at once and up to the options' timeout, until each namespace is gone; returns the reasons of
    /// those still there.
    private func waitUntilGone(_ namespaces: Set<String>, options: RestoreOptions, _ resources: [APIResource])
        async throws -> [String: String]
    {
        let resource = try Self.namespacesResource(resources)
        let timeout = Duration.milliseconds(Int(options.namespaceTerminatingTimeout * 1000))
        let interval = min(Duration.seconds(1), max(timeout / 20, .milliseconds(20)))
        for namespace in namespaces.sorted() {
            logger.info("namespace \(namespace) is terminating; waiting up to \(timeout) for it to be gone")
        }
        return try await withThrowingTaskGroup(of: (String, String?).self) { group in
            for namespace in namespaces {
                group.addTask {
                    let deadline = ContinuousClock.now + timeout
                    while true {
                        do {
                            _ = try await client.get(resource, namespace: nil, name: namespace)
                        } catch let error as KubeAPIError where error.isNotFound {
                            return (namespace, nil)
                        }
                        guard ContinuousClock.now < deadline else {
                            return (namespace, "namespace \(namespace) is still terminating after \(timeout)")
                        }
                        try await Task.sleep(for: interval)
                    }
                }
            }
            var stuck: [String: String] = [:]
            for try await (namespace, reason) in group { stuck[namespace] = reason }
            return stuck
        }
    }

    /// "namespace/name" of every service account of the target cluster.
    private func serviceAccounts(_ resources: [APIResource]) async throws -> Set<String> {
        guard let resource = resources.first(where: { $0.group.isEmpty && $0.name == "serviceaccounts" }) else {
            return []
        }
        var accounts = Set<String>()
        try await client.listAll(resource) { page in accounts.formUnion(page.map { "\($0.namespace ?? "")/\($0.name)" })
        }
        return accounts
    }

    /// The `--resource-modifier-configmap` rules, read from the Velero namespace of the target cluster.
    private func loadModifiers(_ options: RestoreOptions, resources: [APIResource]) async throws -> ResourceModifiers? {
        guard let name = options.resourceModifierConfigMap else { return nil }
        let place = "\(options.veleroNamespace)/\(name)"
        guard let configMaps = resources.first(where: { $0.group.isEmpty && $0.name == "configmaps" }) else {
            throw RestoreError.invalidOption("the target cluster serves no configmaps to hold resource modifiers")
        }
        let object: KubeObject
        do {
            object = try await client.get(configMaps, namespace: options.veleroNamespace, name: name)
        } catch let error as KubeAPIError where error.isNotFound {
            throw RestoreError.invalidOption("--resource-modifier-configmap '\(name)': ConfigMap \(place) not found")
        }
        do { return try ResourceModifiers.parse(configMap: object.json, name: place) } catch {
            throw RestoreError.invalidOption("--resource-modifier-configmap '\(name)' (\(place)): \(error)")
        }
    }

    /// After CRDs are created, waits (up to 30 s) until discovery serves their resources.
    private func waitForCustomResources(_ crds: [Item], current: [APIResource]) async throws -> [APIResource] {
        let wanted = Set(crds.map(\.name))
        var resources = current
        for _ in 0..<60 {
            resources = try await client.discover()
            let served = Set(resources.map(\.qualifiedName))
            if wanted.isSubset(of: served) { return resources }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw RestoreError.crdNotEstablished(
            wanted.subtracting(Set(resources.map(\.qualifiedName))).sorted().joined(separator: ", "))
    }

    static func selectStreams(_ streams: [ResourceStream], options: RestoreOptions) throws -> [ResourceStream] {
        func resolve(_ names: [String]) throws -> Set<String>? {
            if names.isEmpty || names.contains("*") { return nil }
            var result: Set<String> = []
            for name in names {
                let hits = streams.filter { $0.resource.matches(name) }.map(\.resource.qualifiedName)
                guard !hits.isEmpty else { throw RestoreError.unknownResource(name) }
                result.formUnion(hits)
            }
            return result
        }
        let included = try resolve(options.includeResources)
        let excluded = try resolve(options.excludeResources) ?? []
        let allNamespaces = options.includeNamespaces.isEmpty || options.includeNamespaces.contains("*")
        let clusterWanted = options.includeClusterResources ?? allNamespaces
        return streams.filter { stream in
            let name = stream.resource.qualifiedName
            guard included?.contains(name) ?? true, !excluded.contains(name) else { return false }
            let isNamespaceList = stream.resource.group.isEmpty && stream.resource.name == "namespaces"
            let isCRDList =
                stream.resource.group == "apiextensions.k8s.io" && stream.resource.name == "customresourcedefinitions"
            return stream.resource.namespaced || isNamespaceList || isCRDList || clusterWanted
        }
    }

    /// Whether a namespace of the backup is selected; includes and excludes are names or globs.
    static func namespaceSelected(_ namespace: String?, options: RestoreOptions) -> Bool {
        guard let namespace else { return true }
        if options.excludeNamespaces.contains(where: { NamespacePattern.matches($0, namespace) }) { return false }
        return options.includeNamespaces.isEmpty
            || options.includeNamespaces.contains { $0 == "*" || NamespacePattern.matches($0, namespace) }
    }

    static func labelsSelected(_ labels: [String: String], _ selectors: [LabelSelector], any: Bool) -> Bool {
        any ? selectors.contains { $0.matches(labels) } : selectors.allSatisfy { $0.matches(labels) }
    }

    static func target(for resource: APIResource, in discovered: [APIResource]) -> APIResource? {
        discovered.first { $0.group == resource.group && $0.name == resource.name }
    }

    static func namespacesResource(_ discovered: [APIResource]) throws -> APIResource {
        guard let resource = discovered.first(where: { $0.group.isEmpty && $0.name == "namespaces" }) else {
            throw RestoreError.unknownResource("namespaces")
        }
        return resource
    }
}
