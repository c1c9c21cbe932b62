import BackupModel
import Collectors
import Foundation
import KubeClient
import Logging

/// Runs the exec hooks of the pods a restore created, once their containers run: each hooked pod is read back
/// from the cluster (its hook annotations came with it), polled until the hook's container is running (ready,
/// with `waitForReady`) or its wait timeout passes or the pod ends, then its hooks run in order through
/// `PodHookRunner`. Pods are handled `width` at a time. A failed Fail hook is an error of the restore, a failed
/// Continue hook a warning (as for backup hooks). Before them, hook init containers with a timeout are waited for
/// (`waitForInitContainers`). A hook naming a container the pod does not have fails at once (Velero drops it with
/// a warning); a pod deleted while its hooks wait fails them with that reason.
struct PostRestoreHooks: Sendable {
    let client: KubeClient
    let rules: RestoreHookRules
    let restoreName: String
    var pollInterval: Duration = .milliseconds(500)
    var width = 8

    struct Outcome: Sendable {
        var records: [HookRecord] = []
        var errors: [String] = []
        var warnings: [String] = []
    }

    static let pods = APIResource(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true)

    struct PodState: Decodable {
        struct Metadata: Decodable {
            var name: String?
            var namespace: String?
            var labels: [String: String]?
            var annotations: [String: String]?
        }
        struct Container: Decodable {
            var name: String
            var command: [String]?
        }
        struct Spec: Decodable {
            var containers: [Container]?
            var initContainers: [Container]?
        }
        struct ContainerStatus: Decodable {
            struct State: Decodable {
                var running: Running?
                var terminated: Terminated?
            }
            struct Running: Decodable {}
            struct Terminated: Decodable {
                var exitCode: Int32?
                var reason: String?
            }
            var name: String
            var ready: Bool?
            var state: State?
            var lastState: State?
        }
        struct Status: Decodable {
            var phase: String?
            var containerStatuses: [ContainerStatus]?
            var initContainerStatuses: [ContainerStatus]?
        }
        var metadata: Metadata
        var spec: Spec?
        var status: Status?
    }

    /// A restored pod: its namespace (after mappings) and name.
    struct PodKey: Hashable, Sendable {
        var namespace: String
        var name: String
    }

    /// The pods among `items` that `results` say were created, with their metadata as backed up.
    static func createdPods(_ items: [ResourceRestorer.Item], results: [RestoreItemResult]) -> [PodKey: PodState
        .Metadata]
    {
        let created = Set(
            results.filter { $0.resource == "pods" && $0.outcome == .created }.compactMap { result in
                result.namespace.map { PodKey(namespace: $0, name: result.name) }
            })
        guard !created.isEmpty else { return [:] }
        struct Backed: Decodable { var metadata: PodState.Metadata? }
        var pods: [PodKey: PodState.Metadata] = [:]
        for item in items where item.resource.name == "pods" && item.resource.group.isEmpty {
            guard let namespace = item.namespace else { continue }
            let key = PodKey(namespace: namespace, name: item.name)
            guard created.contains(key) else { continue }
            let backed = try? JSONDecoder().decode(Backed.self, from: Data(item.backup))
            pods[key] = PodState.Metadata(
                name: item.name, namespace: namespace, labels: backed?.metadata?.labels,
                annotations: backed?.metadata?.annotations)
        }
        return pods
    }

    /// Runs the hooks of the pods the restore created. `restoredPods` (the created pods as backed up) accounts for
    /// a pod deleted before the hooks looked: its hooks fail with that reason instead of being left out.
    func run(_ results: [RestoreItemResult], restoredPods: [PodKey: PodState.Metadata] = [:]) async throws -> Outcome {
        // One LIST per namespace finds the created pods that have hooks (not a GET per restored pod).
        var created: [String: Set<String>] = [:]
        for item in results where item.resource == "pods" && item.outcome == .created {
            if let namespace = item.namespace { created[namespace, default: []].insert(item.name) }
        }
        var hooked: [(String, String, PodState.Metadata)] = []
        let anyRule = rules.rules.contains { !$0.exec.isEmpty } || rules.waitsForInit
        func hasHooks(_ annotations: [String: String]) -> Bool {
            anyRule || annotations[RestoreHookRules.postPrefix + "command"] != nil
                || annotations[RestoreHookRules.initPrefix + "timeout"] != nil
        }
        for (namespace, names) in created.sorted(by: { $0.key < $1.key }) {
            var listed = Set<String>()
            try await client.listAll(Self.pods, namespace: namespace) { page in
                for object in page where names.contains(object.name) {
                    listed.insert(object.name)
                    let annotations = object.metadata.annotations ?? [:]
                    if hasHooks(annotations) {
                        let metadata = PodState.Metadata(
                            name: object.name, namespace: namespace, labels: object.metadata.labels,
                            annotations: annotations)
                        hooked.append((namespace, object.name, metadata))
                    }
                }
            }
            // Created and gone already: its hooks (known from the backed-up pod) fail as deleted.
            for name in names.subtracting(listed).sorted() {
                guard let metadata = restoredPods[PodKey(namespace: namespace, name: name)],
                    hasHooks(metadata.annotations ?? [:])
                else { continue }
                hooked.append((namespace, name, metadata))
            }
        }
        var outcome = Outcome()
        for start in stride(from: 0, to: hooked.count, by: width) {
            try await withThrowingTaskGroup(of: Outcome.self) { group in
                for (namespace, name, listed) in hooked[start..<min(start + width, hooked.count)] {
                    group.addTask { try await hooks(of: namespace, name, listed: listed) }
                }
                for try await one in group {
                    outcome.records += one.records
                    outcome.errors += one.errors
                    outcome.warnings += one.warnings
                }
            }
        }
        return outcome
    }

    /// The pod as it is now; nil once it is deleted.
    func read(_ namespace: String, _ name: String) async throws -> PodState? {
        do {
            let object = try await client.get(Self.pods, namespace: namespace, name: name)
            return try JSONDecoder().decode(PodState.self, from: Data(object.json))
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    /// `listed`: the pod's metadata when it was listed, whose hooks fail if the pod is gone before they run.
    private func hooks(of namespace: String, _ name: String, listed: PodState.Metadata) async throws -> Outcome {
        var outcome = Outcome()
        let start = ContinuousClock.now
        let current = try await read(namespace, name)
        var deleted = current == nil
        var pod = current ?? PodState(metadata: listed, spec: nil, status: nil)
        let waits = rules.initWaits(
            namespace: namespace, labels: pod.metadata.labels ?? [:], annotations: pod.metadata.annotations ?? [:],
            initContainers: (pod.spec?.initContainers ?? []).map(\.name))
        if !waits.isEmpty, !deleted {
            deleted = try await waitForInitContainers(waits, of: &pod, start: start, into: &outcome)
        }
        let hooks: [RestoreHookRules.ExecHook]
        do {
            hooks = try rules.execHooks(
                pod: name, namespace: namespace, labels: pod.metadata.labels ?? [:],
                annotations: pod.metadata.annotations ?? [:])
        } catch {
            outcome.errors.append("\(error); its post-restore hooks did not run")
            return outcome
        }
        guard !hooks.isEmpty else { return outcome }
        let containers = (pod.spec?.containers ?? []).map(\.name)
        let runner = PodHookRunner(
            client: client, logger: Logger(label: "velero-cas.restore"), operation: "restore \(restoreName)")
        for hook in hooks {
            let container = hook.hook.container ?? containers.first ?? ""
            // Wait for this hook's container (a later hook's wait counts from the same start, as in Velero); not
            // for one the pod does not have (the runner reports it).
            while !deleted, containers.contains(container),
                !Self.isUp(pod, container: container, ready: hook.waitForReady),
                !Self.ended(pod), ContinuousClock.now - start < hook.waitTimeout
            {
                try await Task.sleep(for: pollInterval)
                if let now = try await read(namespace, name) { pod = now } else { deleted = true }
            }
            let target = PodHookRunner.Pod(
                namespace: namespace, name: name, containers: containers, phase: pod.status?.phase)
            var ran: PodHookRunner.Outcome
            if !deleted,
                !containers.contains(container) || Self.isUp(pod, container: container, ready: hook.waitForReady)
            {
                ran = try await runner.run([hook.hook], phase: "post", pod: target)
            } else {
                let why =
                    deleted
                    ? "the pod was deleted before the hook ran"
                    : Self.ended(pod)
                        ? "the pod ended (\(pod.status?.phase ?? "")) before the hook ran"
                        : "container \(container) was not \(hook.waitForReady ? "ready" : "running") within \(hook.waitTimeout)"
                var record = HookRecord(
                    namespace: namespace, pod: name, container: container, phase: "post", source: hook.hook.source,
                    command: hook.hook.command, onError: hook.hook.onError.rawValue, error: why)
                record.seconds = Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000
                ran = PodHookRunner.Outcome()
                ran.records = [record]
                let message = "\(record.display) [\(hook.hook.command.joined(separator: " "))] failed: \(why)"
                if hook.hook.onError == .fail { ran.failure = message } else { ran.warnings = [message] }
            }
            outcome.records += ran.records
            outcome.warnings += ran.warnings
            if let failure = ran.failure {
                outcome.errors.append(failure)
                break
            }
        }
        return outcome
    }

    static func ended(_ pod: PodState) -> Bool {
        pod.status?.phase == "Succeeded" || pod.status?.phase == "Failed"
    }

    private static func isUp(_ pod: PodState, container: String, ready: Bool) -> Bool {
        guard let status = pod.status?.containerStatuses?.first(where: { $0.name == container }) else { return false }
        return ready ? status.ready == true : status.state?.running != nil
    }
}
