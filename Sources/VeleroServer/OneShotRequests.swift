import Foundation
import KubeClient
import VeleroAPI

/// A kind whose objects are requests answered once (DownloadRequest, ServerStatusRequest).
protocol OneShotRequest: VeleroKind {
    /// Not answered yet (phase New, or no status).
    var isNew: Bool { get }
}

extension DownloadRequest: OneShotRequest {
    var isNew: Bool { phase == .new }
}

extension ServerStatusRequest: OneShotRequest {
    var isNew: Bool { phase == .new }
}

/// What the controllers of one-shot requests share, as Velero handles them: every listed or changed request is
/// queued; a New one is answered once (its status is written only while it still reads New, so a second writer's
/// answer stands); and requests past their expiry are deleted every `downloadSweepInterval`.
struct OneShotRequests<K: OneShotRequest>: Sendable {
    let server: VeleroServer
    let access: ObjectAccess<K>
    let queue = WorkQueue()

    init(server: VeleroServer) {
        self.server = server
        access = ObjectAccess(client: server.client, namespace: server.configuration.namespace)
    }

    func loop(workers: Int, process: @escaping @Sendable (String) async throws -> Void) -> ControllerLoop {
        .queueingAll(server, resource: K.resource, queue: queue, workers: workers, process: process)
    }

    /// Writes `status` on the request if it is still New; returns whether it did.
    @discardableResult
    func answer(_ name: String, _ status: K.Status) async throws -> Bool {
        var answered = false
        try await access.updateStatus(name) { request in
            answered = request.isNew
            guard answered else { return false }
            request.status = status
            return true
        }
        return answered
    }

    /// The times in a request's status, read loosely: a request that does not decode as its kind expires too.
    struct Times: Decodable {
        struct Status: Decodable {
            var expiration: Date?
            var processedTimestamp: Date?
        }
        var status: Status?
    }

    /// Every `downloadSweepInterval` until cancelled: `expireOnce`, then `also`.
    func expireLoop(
        _ what: String, expiry: @escaping @Sendable (Times.Status) -> Date?,
        also: @escaping @Sendable () async throws -> Void = {}
    ) async {
        await server.repeating(every: server.configuration.downloadSweepInterval, what) {
            try await expireOnce(expiry: expiry)
            try await also()
        }
    }

    /// Deletes every request whose `expiry` (from its status) has passed; returns their names.
    @discardableResult
    func expireOnce(expiry: (Times.Status) -> Date?) async throws -> [String] {
        let now = server.configuration.now()
        let namespace = server.configuration.namespace
        var expired: [String] = []
        try await server.client.listAll(K.resource, namespace: namespace) { page in
            for object in page {
                guard let status = (try? Velero.decoder().decode(Times.self, from: Data(object.json)))?.status,
                    let date = expiry(status), date < now
                else { continue }
                expired.append(object.name)
            }
        }
        for name in expired {
            do {
                try await server.client.delete(K.resource, namespace: namespace, name: name)
                server.logger.debug("\(K.kind) \(name) expired; deleted")
            } catch let error as KubeAPIError where error.isNotFound {}
        }
        return expired
    }
}
