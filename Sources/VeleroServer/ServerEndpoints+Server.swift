import Foundation
import KubeClient
import ServerEndpoints
import VeleroAPI

/// `host:port` for `--metrics-address`, as Velero writes it (`:8085` is every interface).
public struct EndpointAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `:8085`, `127.0.0.1:8085`, `[::1]:8085` or `localhost:0`; the error names `flag` and the value.
    public static func parse(_ text: String, flag: String = "--metrics-address") throws(AddressError)
        -> EndpointAddress
    {
        guard let colon = text.lastIndex(of: ":") else { throw AddressError(flag: flag, value: text) }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port),
            !host.contains(where: { $0 == " " || $0 == "/" })
        else { throw AddressError(flag: flag, value: text) }
        return EndpointAddress(host: host, port: port)
    }

    public struct AddressError: Error, CustomStringConvertible {
        public var flag: String
        public var value: String
        public var description: String {
            "\(flag) '\(value)' is not an address: use host:port or :port (e.g. :8085), port 0-65535"
        }
    }
}

extension VeleroServer {
    /// Starts `/metrics`, `/healthz` and `/readyz` when an address is configured.
    func startEndpoints() async throws -> EndpointServer? {
        guard let address = configuration.metricsAddress else { return nil }
        do {
            return try await startEndpoints(at: address)
        } catch  where !configuration.metricsRequired {
            logger.warning("\(error); running without them")
            return nil
        }
    }

    private func startEndpoints(at address: EndpointAddress) async throws -> EndpointServer {
        let server = try await EndpointServer.start(
            host: address.host, port: address.port,
            routes: [
                "/metrics": { [metrics] in
                    EndpointServer.Response(
                        contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
                },
                "/healthz": { [weak self] in
                    let (live, reason) = self?.liveness() ?? (false, "stopped")
                    return EndpointServer.Response(status: live ? 200 : 503, text: reason + "\n")
                },
                "/readyz": { [weak self] in
                    let (ready, reason) = self?.readiness() ?? (false, "stopped")
                    return EndpointServer.Response(status: ready ? 200 : 503, text: reason + "\n")
                },
            ])
        boundMetricsPort.withLock { $0 = server.port }
        logger.info("serving /metrics, /healthz and /readyz on \(address.host):\(server.port)")
        return server
    }

    /// The port the endpoints listen on, once they do.
    public var metricsPort: Int? { boundMetricsPort.withLock { $0 } }

    /// Every `metricsRefreshInterval`: `velero_backup_total`, `velero_restore_total`, each schedule's series
    /// made to exist, and each schedule's last successful backup time, from the objects in the namespace (as
    /// Velero recomputes them).
    func countObjectsLoop() async {
        while !Task.isCancelled {
            do {
                try await countObjects()
            } catch {
                if Task.isCancelled { return }
                logger.warning("counting objects for the metrics: \(error)")
            }
            try? await Task.sleep(for: configuration.metricsRefreshInterval)
        }
    }

    private func countObjects() async throws {
        let namespace = configuration.namespace
        var backups = 0
        var lastSuccess: [String: Date] = [:]
        try await client.listAll(Backup.resource, namespace: namespace) { page in
            backups += page.count
            for object in page {
                guard let backup = try? Backup.decode(object.json), backup.phase == .completed,
                    let completed = backup.status?.completionTimestamp
                else { continue }
                let schedule = ServerMetrics.schedule(backup)
                lastSuccess[schedule] = max(lastSuccess[schedule] ?? completed, completed)
            }
        }
        var restores = 0
        try await client.listAll(Restore.resource, namespace: namespace) { restores += $0.count }
        var schedules: [String] = []
        try await client.listAll(Schedule.resource, namespace: namespace) { schedules += $0.map(\.name) }
        metrics.setBackupTotal(backups)
        metrics.setRestoreTotal(restores)
        for schedule in schedules { metrics.initSchedule(schedule) }
        for (schedule, time) in lastSuccess { metrics.backupSucceeded(schedule: schedule, at: time) }
    }
}
