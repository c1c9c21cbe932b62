import ArgumentParser
import Foundation
import KubeClient
import VeleroAPI

extension ServerSession {
    /// Watches a Backup or Restore until its phase is final (printing a dot each second when `dots`, as Velero's
    /// CLI does) and returns it as it ended. The watch starts from the version the object was created at, so no change is
    /// missed; it resumes when the stream ends and reads the object again when that version has expired (410) or
    /// the connection failed (up to five times in a row, backing off).
    func waitForFinal<K: RunKind>(_ created: K, dots: Bool = true) async throws -> K {
        try await withThrowingTaskGroup(of: K?.self) { group in
            group.addTask {
                while dots {
                    try await Task.sleep(for: .seconds(1))
                    print(".", terminator: "")
                    fflush(nil)
                }
                return nil
            }
            group.addTask { try await self.watchUntilFinal(created) }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }

    private func watchUntilFinal<K: RunKind>(_ created: K) async throws -> K {
        var current = created
        var version = created.metadata.resourceVersion
        var failures = 0
        while !current.phase.isFinal {
            try Task.checkCancellation()
            do {
                let events = try await client.watch(
                    K.resource, namespace: namespace, resourceVersion: version, timeoutSeconds: 60)
                for try await event in events {
                    if let seen = event.object.metadata.resourceVersion { version = seen }
                    guard event.object.name == created.name else { continue }
                    switch event.type {
                    case .deleted:
                        throw ValidationError(
                            "\(K.kind.lowercased()) '\(created.name)' was deleted while waiting for it to finish")
                    case .added, .modified:
                        current = try K.decode(event.object.json)
                        if current.phase.isFinal { return current }
                    case .bookmark, .error: continue
                    }
                    failures = 0
                }
            } catch let error as KubeAPIError where error.isExpired {
                current = try await get(created.name, as: K.self)
                version = current.metadata.resourceVersion
            } catch let error as ValidationError {
                throw error
            } catch  where !Task.isCancelled && failures < 5 {
                // A dropped connection: back off, read the object again, and watch from there.
                failures += 1
                try await Task.sleep(for: .milliseconds(200 << failures))
                current = try await get(created.name, as: K.self)
                version = current.metadata.resourceVersion
            }
        }
        return current
    }
}
