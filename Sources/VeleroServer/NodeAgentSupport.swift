import ChunkStore
import Foundation
import KubeClient
import VeleroAPI

extension NodeAgent {
    /// Runs `work` with a fresh `TreeProgress` while the bytes done and the total are written on the object through
    /// `write` at most once per progress interval, and only when they moved; returns what `work` returns.
    func withProgress<K: VeleroKind, T: Sendable>(
        _ name: String, access: ObjectAccess<K>,
        write: @escaping @Sendable (inout K, PodVolumeBackup.Progress) -> Bool,
        work: @escaping @Sendable (TreeProgress) async throws -> T
    ) async throws -> T {
        let progress = TreeProgress()
        let interval = configuration.progressInterval
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                var written = (-1, -1)
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    let now = (progress.bytesDone, progress.bytesTotal)
                    guard !Task.isCancelled, now != written else { continue }
                    written = now
                    _ = try? await access.updateStatus(name) { object in
                        write(&object, .init(totalBytes: Int64(now.1), bytesDone: Int64(now.0)))
                    }
                }
                return nil
            }
            group.addTask { try await work(progress) }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }

    /// Marks an object of this agent's that does not decode Failed, naming what is wrong; a conflict means someone
    /// changed it meanwhile (the watch brings it back).
    func failMalformed<K: VeleroKind>(_ object: KubeObject, reason: String, access: ObjectAccess<K>) async throws {
        guard !PodVolumeBackup.Phase(rawValue: LoosePhase.of(object)).isFinal else { return }
        let failed = MalformedFailure(message: "the \(K.kind) is malformed: \(reason)", completionTimestamp: Date())
        logger.error("\(K.kind) \(object.name): \(failed.message)")
        do {
            try await access.patchStatus(
                object.name, resourceVersion: object.metadata.resourceVersion,
                status: Array(try Velero.encoder().encode(failed)), as: K.self)
        } catch let error as KubeAPIError where error.isConflict {}
    }
}

/// The status written on an object that does not decode.
private struct MalformedFailure: Encodable {
    var phase = "Failed"
    var message: String
    var completionTimestamp: Date
}
