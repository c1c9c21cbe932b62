import KubeClient

extension ControllerLoop {
    /// The loop of a controller whose every listed or changed object is queued by name, with `workers` workers
    /// running `process`.
    static func queueingAll(
        _ server: VeleroServer, resource: APIResource, queue: WorkQueue, workers: Int,
        process: @escaping @Sendable (String) async throws -> Void
    ) -> ControllerLoop {
        ControllerLoop(
            watcher: ResourceWatcher(
                client: server.client, resource: resource, namespace: server.configuration.namespace,
                logger: server.logger),
            queue: queue, workers: workers, listed: { for object in $0 { await queue.add(object.name) } },
            process: process)
    }
}

extension VeleroServer {
    /// Runs `pass` every `interval` until cancelled; a failed pass is logged (as `what`) and the next one tries
    /// again.
    func repeating(every interval: Duration, _ what: String, _ pass: () async throws -> Void) async {
        while !Task.isCancelled {
            do {
                try await pass()
            } catch {
                if Task.isCancelled { return }
                logger.warning("\(what): \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }
}
