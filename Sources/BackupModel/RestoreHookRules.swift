/// A restore's hooks (Velero's restore hooks): init containers added to restored pods, and exec hooks run in a
/// restored pod once its container runs (or is ready). A pod's annotations win over the Restore's
/// `spec.hooks.resources` rules (which the server checks and converts into `rules`):
/// `init.hook.restore.velero.io/container-image` (required), `…/container-name` (default
/// `velero-restore-init-<random>`), `…/command`; and `post.hook.restore.velero.io/command`, `…/container`,
/// `…/on-error`, `…/exec-timeout` (default 30s), `…/wait-timeout` (absent or 0: 10m, where Velero waits without
/// end: post hooks run while the restore holds the store's shared lock, and a wait without end would hold off
/// expiry and garbage collection of that store for as long), `…/wait-for-ready`. Malformed annotations are errors naming the pod, the annotation and its value.
/// An init hook with a timeout (`init.timeout`, or the annotation `init.hook.restore.velero.io/timeout`) is waited
/// for after the objects are applied: its containers must complete within it (Velero declares the field and does
/// not enforce it); one without is not waited for, as in Velero.
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
        /// Init container name → how long it may take to complete (from its hook's `init.timeout`).
        public var initTimeouts: [String: Duration]?

        public init(
            name: String, pods: HookPodSelector, initContainers: [[UInt8]], exec: [ExecHook],
            initTimeouts: [String: Duration]? = nil
        ) {
            self.name = name
            self.pods = pods
            self.initContainers = initContainers
            self.exec = exec
            self.initTimeouts = initTimeouts
        }
    }

    /// A hook init container a restored pod must see complete (exit 0) within `timeout`.
    public struct InitWait: Sendable, Equatable {
        public var container: String
        public var timeout: Duration
        /// "annotation" or "spec:<rule name>".
        public var source: String

        public init(container: String, timeout: Duration, source: String) {
            self.container = container
            self.timeout = timeout
            self.source = source
        }
    }

    public var rules: [Rule]
    public init(rules: [Rule] = []) { self.rules = rules }
}
