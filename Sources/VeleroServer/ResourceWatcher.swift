import Foundation
import KubeClient
import Logging

/// Keeps up with the objects of one resource in one namespace: a LIST, then a WATCH from the list's
/// resourceVersion, resumed from the last version seen whenever the stream ends, and a fresh LIST when the server
/// says that version is too old (410 Gone). Every object listed or changed is handed to `changed` by name; deleted
/// objects are not (a controller GETs the object and finds out). Errors back off and retry; only cancellation ends
/// the loop.
struct ResourceWatcher: Sendable {
    let client: KubeClient
    let resource: APIResource
    let namespace: String
    /// How long one WATCH request may stay open before it is resumed.
    var watchTimeoutSeconds = 300
    let logger: Logger

    /// Runs until cancelled. `listed` receives every LIST's objects (the first one before any event).
    func run(
        listed: @escaping @Sendable ([KubeObject]) async -> Void,
        changed: @escaping @Sendable (KubeObject) async -> Void
    ) async {
        var failures = 0
        var version: String?
        while !Task.isCancelled {
            do {
                if version == nil {
                    let (objects, listVersion) = try await listAll()
                    await listed(objects)
                    version = listVersion
                }
                let events = try await client.watch(
                    resource, namespace: namespace, resourceVersion: version, timeoutSeconds: watchTimeoutSeconds)
                for try await event in events {
                    failures = 0
                    if let seen = event.object.metadata.resourceVersion { version = seen }
                    switch event.type {
                    case .added, .modified: await changed(event.object)
                    case .deleted, .bookmark, .error: continue
                    }
                }
            } catch let error as KubeAPIError where error.isExpired {
                logger.info("\(resource) watch from version \(version ?? "-") expired; listing again")
                version = nil
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let delay = min(30.0, 0.2 * pow(2.0, Double(min(failures, 8))))
                logger.warning("\(resource) in \(namespace): \(error); retrying in \(delay)s")
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                // After repeated failures, start from a fresh list: events may have been missed.
                if failures >= 3 { version = nil }
            }
        }
    }

    private func listAll() async throws -> ([KubeObject], String) {
        var objects: [KubeObject] = []
        var token: String?
        while true {
            let page = try await client.list(resource, namespace: namespace, limit: 500, continueToken: token)
            objects += page.items
            guard let next = page.continueToken else { return (objects, page.resourceVersion) }
            token = next
        }
    }
}
