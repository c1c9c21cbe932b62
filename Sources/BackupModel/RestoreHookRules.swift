/// A restore's hooks (Velero's restore hooks): init containers added to restored pods, and exec hooks run in a
/// restored pod once its container runs (or is ready). A pod's annotations win over the Restore's
/// `spec.hooks.resources` rules (which the server checks and converts into `rules`):
/// `init.hook.restore.velero.io/container-image` (required), `…/container-name` (default
/// `velero-restore-init-<random>`), `…/command`; and `post.hook.restore.velero.io/command`, `…/container`,
/// `…/on-error`, `…/exec-timeout` (default 30s), `…/wait-timeout` (default 10m; Velero waits without end),
/// `…/wait-for-ready`. Malformed annotations are errors naming the pod, the annotation and its value.
public struct RestoreHookRules: Codable, Sendable, Equatable {
    /// An exec hook with its wait for the container.
    public struct ExecHook: Codable, Sendable, Equatable {
        public var hook: PlannedHook
        public var waitTimeout: Duration
        public var waitForReady: Bool

        public init(hook: PlannedHook, waitTimeout: Duration? = nil, waitForReady: Bool = false) {
            self.hook = hook
            self.waitTimeout = waitTimeout ?? ExecHook.defaultWaitTimeout
            self.waitForReady = waitForReady
        }

        /// Velero's own default: its resource timeout.
        public static let defaultWaitTimeout = Duration.seconds(600)
    }

    public struct Rule: Codable, Sendable, Equatable {
        public var name: String
        public var pods: HookPodSelector
        /// corev1.Container objects as JSON.
        public var initContainers: [[UInt8]]
        public var exec: [ExecHook]

        public init(name: String, pods: HookPodSelector, initContainers: [[UInt8]], exec: [ExecHook]) {
            self.name = name
            self.pods = pods
            self.initContainers = initContainers
            self.exec = exec
        }
    }

    public var rules: [Rule]
    public init(rules: [Rule] = []) { self.rules = rules }
}
