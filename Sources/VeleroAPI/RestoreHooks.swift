import Foundation

/// A Restore's `spec.hooks` (Velero's RestoreHooks): init containers added to restored pods and commands run in
/// them once they run.
public struct RestoreHooks: Codable, Sendable, Equatable {
    public var resources: [RestoreResourceHookSpec]?
    public init(resources: [RestoreResourceHookSpec]? = nil) { self.resources = resources }
}

/// One rule of `spec.hooks.resources`: which restored pods, and their `postHooks`.
public struct RestoreResourceHookSpec: HookRuleSelection, Codable, Sendable, Equatable {
    public var name: String?
    public var includedNamespaces: [String]?
    public var excludedNamespaces: [String]?
    public var includedResources: [String]?
    public var excludedResources: [String]?
    public var labelSelector: LabelSelectorSpec?
    public var postHooks: [RestoreResourceHook]?
    public init(name: String? = nil, postHooks: [RestoreResourceHook]? = nil) {
        self.name = name
        self.postHooks = postHooks
    }
}

/// One post hook: an exec in the running pod, or init containers added to it.
public struct RestoreResourceHook: Codable, Sendable, Equatable {
    public var exec: ExecRestoreHook?
    public var `init`: InitRestoreHook?
    public init(exec: ExecRestoreHook? = nil, init initHook: InitRestoreHook? = nil) {
        self.exec = exec
        self.`init` = initHook
    }
}

/// A command run in a restored pod's container once it runs (or is ready).
public struct ExecRestoreHook: Codable, Sendable, Equatable {
    public var container: String?
    public var command: [String]?
    /// `Continue` or `Fail` (the default).
    public var onError: String?
    /// metav1.Duration; default 30s.
    public var execTimeout: String?
    /// How long to wait for the container; metav1.Duration.
    public var waitTimeout: String?
    public var waitForReady: Bool?
    public init(container: String? = nil, command: [String]? = nil, onError: String? = nil) {
        self.container = container
        self.command = command
        self.onError = onError
    }
}

/// Init containers (corev1.Container objects, kept as JSON) added to a restored pod.
public struct InitRestoreHook: Codable, Sendable, Equatable {
    public var initContainers: [ManifestValue]?
    public var timeout: String?
    public init(initContainers: [ManifestValue]? = nil) { self.initContainers = initContainers }
}
