/// One backup hook that ran (or was due and could not), as the backup's record keeps it for
/// `backup describe --details`.
public struct HookRecord: Codable, Sendable, Equatable {
    public var namespace: String
    public var pod: String
    public var container: String
    /// "pre" or "post".
    public var phase: String
    /// "annotation", or "spec:<rule name>" for a rule of the Backup's `spec.hooks.resources`.
    public var source: String
    public var command: [String]
    /// "Continue" or "Fail".
    public var onError: String
    /// The command's exit code, when it ran to an exit.
    public var exitCode: Int32?
    /// Why the hook failed (non-zero exit, timeout, refused exec…); nil when it succeeded.
    public var error: String?
    /// The end of its output (at most `HookRecord.outputLimit` bytes of each).
    public var stdout: String
    public var stderr: String
    public var seconds: Double

    public static let outputLimit = 2048

    public init(
        namespace: String, pod: String, container: String, phase: String, source: String, command: [String],
        onError: String, exitCode: Int32? = nil, error: String? = nil, stdout: String = "", stderr: String = "",
        seconds: Double = 0
    ) {
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.phase = phase
        self.source = source
        self.command = command
        self.onError = onError
        self.exitCode = exitCode
        self.error = error
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
    }

    public var failed: Bool { error != nil }

    /// "pre hook of shop/web container app (annotation)", as messages name it.
    public var display: String { "\(phase) hook of pod \(namespace)/\(pod) container \(container) (\(source))" }
}
