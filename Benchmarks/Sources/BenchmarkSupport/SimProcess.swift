import Foundation

/// The kube-sim executable, started in the background until `stop()`.
public struct SimProcess {
    let process: Process

    public static func start(path: String, arguments: [String]) throws -> SimProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Wait for the "listening" line: generation of a large cluster takes a moment.
        var seen = ""
        while !seen.contains("listening on") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { throw BenchError("kube-sim exited before listening: \(seen)") }
            seen += String(decoding: data, as: UTF8.self)
        }
        return SimProcess(process: process)
    }

    public func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
