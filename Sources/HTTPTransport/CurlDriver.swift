import CCurl
import Foundation
import Synchronization

/// Owns a curl multi handle and the one thread that drives it.
///
/// Tasks hand transfers over through a locked queue and wake the thread with `curl_multi_wakeup`; the thread adds
/// them, runs `curl_multi_perform`/`curl_multi_poll`, and resumes each task's continuation when its transfer ends.
/// Connections are kept in the multi handle's cache and reused across requests.
/// `@unchecked Sendable`: `multi` is used only by the driver thread, except `curl_multi_wakeup`, which curl documents as
/// callable from any thread; the inbox is behind a mutex.
final class CurlDriver: @unchecked Sendable {
    private struct Inbox {
        var submitted: [Transfer] = []
        var unpaused: [Transfer] = []
        var cancellationRequested = false
        var shuttingDown = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())

    init(maxConnectionsPerHost: Int) {
        Self.initializeCurlOnce
        multi = curl_multi_init()
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnectionsPerHost * 4)
        let thread = Thread { [self] in self.run() }
        thread.name = "velero-cas-curl"
        thread.start()
    }

    private static let initializeCurlOnce: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    func submit(_ transfer: Transfer) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.shuttingDown else { return false }
            inbox.submitted.append(transfer)
            return true
        }
        if accepted {
            curl_multi_wakeup(multi)
        } else {
            transfer.continuation?.resume(throwing: HTTPTransportError.shutDown)
            transfer.continuation = nil
            transfer.stream?.finish(.failure(HTTPTransportError.shutDown))
            transfer.stream = nil
        }
    }

    func cancel(_ transfer: Transfer) {
        transfer.cancelled.store(true, ordering: .releasing)
        inbox.withLock { $0.cancellationRequested = true }
        curl_multi_wakeup(multi)
    }

    /// Resumes a stream paused by its full buffer (the consumer has taken from it).
    func unpause(_ transfer: Transfer) {
        inbox.withLock { $0.unpaused.append(transfer) }
        curl_multi_wakeup(multi)
    }

    func shutdown() {
        inbox.withLock { $0.shuttingDown = true }
        curl_multi_wakeup(multi)
    }

    // MARK: - The driver thread

    private func run() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            let (submitted, unpaused, checkCancellation, shuttingDown) = inbox.withLock { inbox in
                defer {
                    inbox.submitted.removeAll(keepingCapacity: true)
                    inbox.unpaused.removeAll(keepingCapacity: true)
                    inbox.cancellationRequested = false
                }
                return (inbox.submitted, inbox.unpaused, inbox.cancellationRequested, inbox.shuttingDown)
            }
            for transfer in submitted {
                active[transfer.handle] = transfer
                curl_multi_add_handle(multi, transfer.handle)
            }
            // Only this thread pauses (in the write callback) and unpauses; curl may deliver the held bytes from
            // inside curl_easy_pause, which is fine here.
            for transfer in unpaused where active[transfer.handle] === transfer {
                _ = ccurl_unpause(transfer.handle)
            }
            if checkCancellation || shuttingDown {
                for (handle, transfer) in active where shuttingDown || transfer.cancelled.load(ordering: .acquiring) {
                    curl_multi_remove_handle(multi, handle)
                    active[handle] = nil
                    finish(transfer, with: .failure(shuttingDown ? HTTPTransportError.shutDown : CancellationError()))
                }
            }
            if shuttingDown {
                curl_multi_cleanup(multi)
                return
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished(&active)
            var ready: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1000, &ready)
        }
    }

    private func collectFinished(_ active: inout [UnsafeMutableRawPointer: Transfer]) {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard ccurl_message_is_done(message) != 0, let handle = message.pointee.easy_handle,
                let transfer = active.removeValue(forKey: handle)
            else { continue }
            let code = ccurl_message_result(message)
            curl_multi_remove_handle(multi, handle)
            if code == CURLE_OK {
                var status = 0
                _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
                let response = HTTPResponse(status: status, headers: transfer.responseHeaders, body: transfer.body)
                finish(transfer, with: .success(response))
            } else {
                finish(transfer, with: .failure(transfer.error(for: code)))
            }
        }
    }

    private func finish(_ transfer: Transfer, with result: Result<HTTPResponse, any Error>) {
        if let stream = transfer.stream {
            if case .success = result { transfer.sendHeadIfNeeded() }
            transfer.stream = nil
            stream.finish(result.map { _ in })
            return
        }
        let continuation = transfer.continuation
        transfer.continuation = nil
        continuation?.resume(with: result)
    }
}
