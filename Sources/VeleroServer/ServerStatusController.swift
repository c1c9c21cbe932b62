import Foundation
import KubeClient
import VeleroAPI

/// ServerStatusRequests, as Velero answers them: a New request gets the server's version, its plugins and the time,
/// and is Processed; processed requests are deleted a minute later.
struct ServerStatusController: Sendable {
    /// What the server has built in where Velero runs plugins: the object stores of its two providers.
    static let plugins = [
        ServerStatusRequest.PluginInfo(name: "velero.io/aws", kind: "ObjectStore"),
        ServerStatusRequest.PluginInfo(name: "velero.io/local", kind: "ObjectStore"),
    ]
    /// How long a processed request is kept (Velero: one minute).
    static let ttl: TimeInterval = 60

    let server: VeleroServer
    let requests: OneShotRequests<ServerStatusRequest>

    init(server: VeleroServer) {
        self.server = server
        requests = OneShotRequests(server: server)
    }

    var loop: ControllerLoop { requests.loop(workers: 1) { try await process($0) } }

    func process(_ name: String) async throws {
        var status = ServerStatusRequest.Status(phase: .processed)
        status.processedTimestamp = server.configuration.now()
        status.serverVersion = server.configuration.serverVersion
        status.plugins = Self.plugins
        try await requests.answer(name, status)
    }

    /// Every `downloadSweepInterval`: requests processed more than the TTL ago are deleted.
    func expireLoop() async {
        await requests.expireLoop("server status requests") { $0.processedTimestamp?.addingTimeInterval(Self.ttl) }
    }
}

/// The store-facing controllers (backup sync, location validation, download and server status requests), added to
/// the server's task group as one unit.
struct StoreFacingControllers: Sendable {
    let sync: BackupSync
    let validation: LocationValidation
    let downloads: DownloadController
    let statuses: ServerStatusController

    init(server: VeleroServer) {
        sync = BackupSync(server: server)
        validation = LocationValidation(server: server)
        downloads = DownloadController(server: server)
        statuses = ServerStatusController(server: server)
    }

    var loops: [ControllerLoop] { [downloads.loop, statuses.loop] }
    var periodic: [@Sendable () async -> Void] {
        [
            { [validation] in await validation.loop() }, { [sync] in await sync.loop() },
            { [downloads] in await downloads.expireLoop() }, { [statuses] in await statuses.expireLoop() },
        ]
    }
}
