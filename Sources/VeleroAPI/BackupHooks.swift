/// A Backup's `spec.hooks` (Velero's BackupHooks): commands run in pods' containers around their backup.
public struct BackupHooks: Codable, Sendable, Equatable {
    public var resources: [BackupResourceHookSpec]?
    public init(resources: [BackupResourceHookSpec]? = nil) { self.resources = resources }
}

/// One rule of `spec.hooks.resources`: which pods (namespaces, resources, label selector) and the hooks to run
/// before (`pre`) and after (`post`) their backup.
public struct BackupResourceHookSpec: HookRuleSelection, Codable, Sendable, Equatable {
    public var name: String?
    public var includedNamespaces: [String]?
    public var excludedNamespaces: [String]?
    public var includedResources: [String]?
    public var excludedResources: [String]?
    public var labelSelector: LabelSelectorSpec?
    public var pre: [BackupResourceHook]?
    public var post: [BackupResourceHook]?

    public init(name: String? = nil, pre: [BackupResourceHook]? = nil, post: [BackupResourceHook]? = nil) {
        self.name = name
        self.pre = pre
        self.post = post
    }
}

/// One hook of a rule; `exec` is the only kind.
public struct BackupResourceHook: Codable, Sendable, Equatable {
    public var exec: ExecHook?
    public init(exec: ExecHook? = nil) { self.exec = exec }
}

/// A command run in a container through the API server's `pods/exec`.
public struct ExecHook: Codable, Sendable, Equatable {
    /// The container; absent means the pod's first container.
    public var container: String?
    public var command: [String]?
    /// `Continue` or `Fail` (the default).
    public var onError: String?
    /// metav1.Duration, e.g. "30s" (the default).
    public var timeout: String?

    public init(container: String? = nil, command: [String]? = nil, onError: String? = nil, timeout: String? = nil) {
        self.container = container
        self.command = command
        self.onError = onError
        self.timeout = timeout
    }
}

/// Velero's `status.hookStatus`.
public struct HookStatus: Codable, Sendable, Equatable {
    public var hooksAttempted: Int?
    public var hooksFailed: Int?
    public init(hooksAttempted: Int? = nil, hooksFailed: Int? = nil) {
        self.hooksAttempted = hooksAttempted
        self.hooksFailed = hooksFailed
    }
}

/// What a backup or restore hook rule selects pods by.
public protocol HookRuleSelection {
    var name: String? { get }
    var includedNamespaces: [String]? { get }
    var excludedNamespaces: [String]? { get }
    var includedResources: [String]? { get }
    var excludedResources: [String]? { get }
    var labelSelector: LabelSelectorSpec? { get }
}
