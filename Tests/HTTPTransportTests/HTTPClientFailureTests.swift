import HTTPTransport
import Testing

/// Failures that need no server: refused connections, silent servers, cancellation, and a free cooperative pool.
@Suite("HTTPClient failures")
struct HTTPClientFailureTests {
    @Test func connectionRefusedIsConnectionFailed() async {
        let client = HTTPClient()
        let url = "http://127.0.0.1:1/nothing-listens-here"
        let error = await #expect(throws: HTTPTransportError.self) {
            try await client.execute(HTTPRequest(method: .get, url: url))
        }
        guard case .connectionFailed(let failedURL, let reason)? = error else {
            Issue.record("expected connectionFailed, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        #expect(!reason.isEmpty)
        #expect(error?.isTransient == true)
    }

    @Test func unsupportedSchemeIsInvalidURL() async {
        let client = HTTPClient()
        let error = await #expect(throws: HTTPTransportError.self) {
            try await client.execute(HTTPRequest(method: .get, url: "gopherx://127.0.0.1/"))
        }
        #expect(error == .invalidURL("gopherx://127.0.0.1/"))
        #expect(error?.isTransient == false)
    }

    @Test func silentServerTimesOut() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let client = HTTPClient()
        let started = ContinuousClock.now
        let error = await #expect(throws: HTTPTransportError.self) {
            try await client.execute(HTTPRequest(method: .get, url: listener.url, timeout: .milliseconds(300)))
        }
        let elapsed = ContinuousClock.now - started
        #expect(error == .timedOut(url: listener.url))
        #expect(elapsed >= .milliseconds(250), "timed out after only \(elapsed)")
        // Generous: the whole suite shares 2 cores; the point is that it times out instead of hanging for the default
        // 120 s (seen: 23 s under a full CI run).
        #expect(elapsed < .seconds(60), "a 300 ms timeout took \(elapsed)")
    }

    @Test func cancellationAbortsAHangingRequestQuickly() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let client = HTTPClient()
        // Ended by the cancellation long before its own timeout (the bound below leaves room for a loaded machine).
        let request = HTTPRequest(method: .get, url: listener.url, timeout: .seconds(120))
        let task = Task { try await client.execute(request) }
        try await Task.sleep(for: .milliseconds(100))
        let cancelled = ContinuousClock.now
        task.cancel()
        let result = await task.result
        let elapsed = ContinuousClock.now - cancelled
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(elapsed < .seconds(60), "cancellation took \(elapsed) to end the request")
    }

    @Test func alreadyCancelledTaskDoesNotSend() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let client = HTTPClient()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.execute(HTTPRequest(method: .get, url: listener.url, timeout: .seconds(30)))
        }
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
    }

    @Test func hangingRequestsDoNotBlockTheCooperativePool() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let client = HTTPClient()
        let hanging = (0..<4).map { _ in
            Task { try await client.execute(HTTPRequest(method: .get, url: listener.url, timeout: .seconds(150))) }
        }
        defer { for task in hanging { task.cancel() } }
        try await Task.sleep(for: .milliseconds(100))  // let them connect and start waiting
        let started = ContinuousClock.now
        let worker = Task {
            try await Task.sleep(for: .milliseconds(50))
            return (0..<10_000).reduce(0, &+)
        }
        let sum = try await worker.value
        let elapsed = ContinuousClock.now - started
        #expect(sum == 49_995_000)
        // Were the hanging requests holding cooperative threads (there are 2 here), the task would wait for their
        // 150 s timeout; the bound is loose only because parallel tests share the machine (28.8 s seen under load).
        #expect(elapsed < .seconds(100), "a 50 ms task took \(elapsed) while 4 requests hung for 150 s")
        for task in hanging {
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }
}
