import BackupModel
import Collectors
import Foundation
import VeleroAPI

/// The backup hooks inside the pod volume step: each pod's pre hooks run before its PodVolumeBackups are created
/// (a failed Fail hook, or malformed hook annotations, is an error on the backup and the pod's volumes are not
/// backed up), and its post hooks run as soon as its last PodVolumeBackup has ended, while other pods' volumes are
/// still being backed up; a pod with no volumes to back up runs them right after its pre hooks' turn. Pods whose
/// pre hooks failed run no post hooks, as in Velero.
///
/// Hooks run in the server only (the CLI's in-process backups have no node agents and run none), and beside the
/// collection of resources: a pod's object may be read before or after its hooks run.
struct BackupHookStage: Sendable {
    let rules: BackupHookRules
    let runner: PodHookRunner
    private(set) var pending: [(pod: PodHookRunner.Pod, hooks: [PlannedHook])] = []

    init(rules: BackupHookRules, runner: PodHookRunner) {
        self.rules = rules
        self.runner = runner
    }

    /// Runs the pod's pre hooks; false when its volumes must not be backed up.
    mutating func before(_ pod: PodForVolumes, volumes: Int, into outcome: inout PodVolumeOutcome) async throws
        -> Bool
    {
        let target = PodHookRunner.Pod(
            namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "",
            containers: (pod.spec?.containers ?? []).map(\.name), phase: pod.status?.phase)
        let labels = pod.metadata.labels ?? [:]
        let annotations = pod.metadata.annotations ?? [:]
        let notBackedUp = volumes > 0 ? "; the pod's volumes were not backed up" : ""
        let pre: [PlannedHook]
        let post: [PlannedHook]
        do {
            pre = try rules.hooks(
                .pre, namespace: target.namespace, pod: target.name, labels: labels, annotations: annotations)
            post = try rules.hooks(
                .post, namespace: target.namespace, pod: target.name, labels: labels, annotations: annotations)
        } catch {
            outcome.errors += error.reasons.map { "\($0); the pod's hooks did not run\(notBackedUp)" }
            return false
        }
        let ran = try await runner.run(pre, phase: "pre", pod: target)
        outcome.hooks += ran.records
        outcome.warnings += ran.warnings
        if let failure = ran.failure {
            outcome.errors.append(failure + notBackedUp)
            return false
        }
        if !post.isEmpty { pending.append((target, post)) }
        return true
    }

    /// Waits for the PodVolumeBackups through `wait` (told of each one that ends) while running post hooks as
    /// pods' volumes finish; the rest run when the wait is over (volumes that timed out included).
    func after(
        _ created: [PodVolumeStep.Created], into outcome: inout PodVolumeOutcome,
        wait: (@escaping @Sendable (String) -> Void) async throws -> [VolumeRecord]
    ) async throws -> [VolumeRecord] {
        guard !pending.isEmpty else { return try await wait { _ in } }
        var remaining: [String: Set<String>] = [:]
        var podOf: [String: String] = [:]
        for item in created {
            let key = "\(item.source.namespace)/\(item.source.pod)"
            remaining[key, default: []].insert(item.name)
            podOf[item.name] = key
        }
        let (ended, continuation) = AsyncStream<String>.makeStream()
        async let posts = runPostHooks(remaining: remaining, podOf: podOf, ended: ended)
        let records: [VolumeRecord]
        do {
            records = try await wait { continuation.yield($0) }
        } catch {
            continuation.finish()
            _ = try? await posts
            throw error
        }
        continuation.finish()
        let (ran, failures) = try await posts
        outcome.hooks += ran.records
        outcome.warnings += ran.warnings
        outcome.errors += failures
        return records
    }

    private func runPostHooks(
        remaining: [String: Set<String>], podOf: [String: String], ended: AsyncStream<String>
    ) async throws -> (PodHookRunner.Outcome, failures: [String]) {
        var remaining = remaining
        var done = Set<String>()
        var total = PodHookRunner.Outcome()
        var failures: [String] = []
        func runReady(all: Bool) async throws {
            for (pod, hooks) in pending {
                let key = "\(pod.namespace)/\(pod.name)"
                guard !done.contains(key), all || remaining[key]?.isEmpty ?? true else { continue }
                done.insert(key)
                let ran = try await runner.run(hooks, phase: "post", pod: pod)
                total.records += ran.records
                total.warnings += ran.warnings
                if let failure = ran.failure { failures.append(failure) }
            }
        }
        try await runReady(all: false)
        for await name in ended {
            guard let key = podOf[name] else { continue }
            remaining[key]?.remove(name)
            try await runReady(all: false)
        }
        try await runReady(all: true)
        return (total, failures)
    }
}
