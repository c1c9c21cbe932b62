import Foundation

/// Runs the real kubectl against a simulator, with its own kubeconfig and discovery cache.
public struct Kubectl: Sendable {
    /// kubectl on this machine, if any.
    public static let path: String? = {
        let candidates =
            ["/usr/bin/kubectl", "/usr/local/bin/kubectl"]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/kubectl" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    public static var isInstalled: Bool { path != nil }

    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
        public var combined: String { output + error }
    }

    public let directory: TemporaryDirectory
    public let kubeconfig: String

    /// `writeKubeconfig` writes a kubeconfig for the server at the path it is given. kubectl (client-go) never
    /// sends bearer tokens over plain http, so the server under kubectl must run without credentials.
    public init(writeKubeconfig: (String) throws -> Void) throws {
        directory = try TemporaryDirectory("kubectl")
        kubeconfig = directory.sub("kubeconfig")
        try writeKubeconfig(kubeconfig)
    }

    public func remove() { directory.remove() }

    /// Writes `text` to a file in the scratch directory and returns its path.
    public func file(_ name: String, _ text: String) throws -> String {
        let path = directory.sub(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs kubectl with `arguments`; output goes to files so large outputs cannot fill a pipe.
    public func run(_ arguments: [String]) async throws -> Result {
        let id = UUID().uuidString
        let outputPath = directory.sub("out-\(id)")
        let errorPath = directory.sub("err-\(id)")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.path!)
        process.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", directory.sub("cache")] + arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        process.environment = ["HOME": directory.path, "PATH": "/usr/bin:/bin"]
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let error = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        return Result(status: status, output: output, error: error)
    }
}
