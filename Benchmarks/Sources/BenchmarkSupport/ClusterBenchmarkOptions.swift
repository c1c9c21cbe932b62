import Foundation
import Logging
import SystemIO

/// The command line both cluster benchmarks take, and the process setup they share.
public struct ClusterBenchmarkOptions: Sendable {
    public var namespaces: Int
    public var objectsPerNamespace: Int
    public var kubeSim = ".build/release/kube-sim"
    public var workdir: String
    /// The velero-cas binary (benchmarks that run the CLI and the server as users do).
    public var cli = ".build/release/velero-cas"
    /// How many times each measured run is repeated (the best of them counts).
    public var rounds = 2

    /// Parses `--namespaces N --objects-per-namespace M --kube-sim PATH --workdir DIR [--cli PATH] [--rounds R]`, then tunes the allocator,
    /// sends logs (warnings and up) to stderr and empties the working directory.
    public static func setUp(namespaces: Int, objectsPerNamespace: Int, workdir: String) throws
        -> ClusterBenchmarkOptions
    {
        var options = ClusterBenchmarkOptions(
            namespaces: namespaces, objectsPerNamespace: objectsPerNamespace, workdir: workdir)
        var arguments = Array(CommandLine.arguments.dropFirst()).makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--namespaces": options.namespaces = Int(arguments.next() ?? "") ?? options.namespaces
            case "--objects-per-namespace":
                options.objectsPerNamespace = Int(arguments.next() ?? "") ?? options.objectsPerNamespace
            case "--kube-sim": options.kubeSim = arguments.next() ?? options.kubeSim
            case "--workdir": options.workdir = arguments.next() ?? options.workdir
            case "--cli": options.cli = arguments.next() ?? options.cli
            case "--rounds": options.rounds = max(1, Int(arguments.next() ?? "") ?? options.rounds)
            default:
                throw BenchError(
                    "unknown argument \(argument) (known: --namespaces N, --objects-per-namespace M, --kube-sim PATH, --workdir DIR, --cli PATH, --rounds R)"
                )
            }
        }
        try prepare(workdir: options.workdir)
        return options
    }

    /// Tunes the allocator, sends logs (warnings and up) to stderr, and empties `workdir`.
    public static func prepare(workdir: String) throws {
        ProcessTuning.configureAllocator()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        try FileSystem.removeTree(workdir)
        try FileSystem.makeDirectories(workdir)
    }
}

/// A progress note on stderr.
public func log(_ message: String) {
    FileHandle.standardError.write(Data("· \(message)\n".utf8))
}
