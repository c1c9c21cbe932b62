import Foundation
import HTTPTransport
import KubeSim
import TestSupport
import Testing

/// The `kube-sim` executable, found next to the test bundle (swift build puts products side by side).
enum KubeSimExecutable {
    static let path: String? = {
        let directories = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path,
            Bundle.main.bundleURL.deletingLastPathComponent().path, Bundle.main.bundleURL.path,
        ]
        return directories.map { $0 + "/kube-sim" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
}

@Suite(.enabled(if: KubeSimExecutable.path != nil, "the kube-sim executable was not built next to the tests"))
struct CommandTests {
    @Test("kube-sim prints its address, serves a generated cluster with tokens, writes a kubeconfig, stops on SIGTERM")
    func serveAndTerminate() async throws {
        let directory = try TemporaryDirectory("kube-sim-cli")
        defer { directory.remove() }
        let outputPath = directory.sub("stdout")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: KubeSimExecutable.path!)
        process.arguments = [
            "--port", "0", "--token", "root=admin", "--token", "look=readonly", "--generate-namespaces", "2",
            "--generate-objects", "10", "--seed", "5", "--kubeconfig-out", directory.sub("kubeconfig"),
        ]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = FileHandle.nullDevice
        let (exits, exited) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.yield(finished.terminationStatus)
            exited.finish()
        }
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var url: String?
        for _ in 0..<200 where url == nil {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("kube-sim listening on ") }) {
                url = String(line.dropFirst("kube-sim listening on ".count))
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let base = try #require(url, "kube-sim never printed its address")
        #expect(base.hasPrefix("http://127.0.0.1:"))

        let client = HTTPClient()
        func get(_ path: String, _ token: String?) async throws -> HTTPResponse {
            let headers = token.map { [HTTPHeader("Authorization", "Bearer \($0)")] } ?? []
            return try await client.execute(HTTPRequest(method: .get, url: base + path, headers: headers))
        }
        #expect(try await get("/api/v1/namespaces", nil).status == 401)
        let namespaces = try JSONValue.parse(try await get("/api/v1/namespaces", "look").body)
        #expect(namespaces.itemNames.contains("ns-000") && namespaces.itemNames.contains("ns-001"))
        let create = try await client.execute(
            HTTPRequest(
                method: .post, url: base + "/api/v1/namespaces",
                headers: [HTTPHeader("Authorization", "Bearer look"), HTTPHeader("Content-Type", "application/json")],
                body: Objects.namespace("nope").encoded()))
        #expect(create.status == 403)
        let kubeconfig = try String(contentsOfFile: directory.sub("kubeconfig"), encoding: .utf8)
        #expect(kubeconfig.contains("server: \(base)") && kubeconfig.contains("token: \"root\""))

        process.terminate()
        var status: Int32 = -1
        for await code in exits { status = code }
        #expect(status == 0, "kube-sim exits cleanly on SIGTERM")
    }

    @Test(
        "bad capacity flags are refused naming the flag and the value",
        arguments: [
            (["--max-in-flight=-1"], "--max-in-flight must not be negative (got -1)"),
            (["--queue-length=-4"], "--queue-length must not be negative (got -4)"),
            (["--request-cost-ms=-2"], "--request-cost-ms must be a non-negative number (got -2.0)"),
        ])
    func badCapacityFlags(arguments: [String], message: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: KubeSimExecutable.path!)
        process.arguments = ["--port", "0"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(text.contains(message), "stderr was: \(text)")
    }
}
