import ChunkStore
import Foundation
import KubeClient
import SystemIO
import VeleroAPI

/// BackupStorageLocation validation, as Velero's location controller does it: every
/// `storeValidationFrequency` (or the location's own `spec.validationFrequency`; 0 turns it off) each location's
/// store is opened and reached, and `status.phase` (Available or Unavailable), `lastValidationTime` and `message`
/// say how that went. A reachable bucket or directory that has no velero-cas store in it yet is Available: the first
/// backup creates the store; a local location's missing directory is Unavailable, as a missing bucket is.
struct LocationValidation: Sendable {
    let server: VeleroServer
    let locations: ObjectAccess<BackupStorageLocation>

    init(server: VeleroServer) {
        self.server = server
        locations = ObjectAccess(client: server.client, namespace: server.configuration.namespace)
    }

    /// Runs until cancelled, looking at the locations every second at most.
    func loop() async {
        let interval = min(server.configuration.storeValidationFrequency, .seconds(1))
        await server.repeating(every: interval, "backup storage location validation") { try await validateDue() }
    }

    /// Validates every location whose last validation is older than its frequency; returns their names.
    @discardableResult
    func validateDue() async throws -> [String] {
        let now = server.configuration.now()
        var validated: [String] = []
        for location in try await locations.list() {
            guard
                let frequency = Self.period(
                    location.spec.validationFrequency, default: server.configuration.storeValidationFrequency)
            else { continue }
            if let last = location.status?.lastValidationTime, now < last.addingTimeInterval(frequency) { continue }
            try await validate(location.name)
            validated.append(location.name)
        }
        return validated
    }

    /// Opens and reaches the location's store and writes the outcome into its status.
    func validate(_ name: String) async throws {
        let (phase, message) = await probe(name)
        server.metrics.setLocationStatus(name, available: phase == .available)
        let now = server.configuration.now()
        let written = try await locations.updateStatus(name) { location in
            var status = location.status ?? BackupStorageLocation.Status()
            let changed = status.phase != phase || status.message != (message ?? "")
            status.phase = phase
            // Empty, not absent: the status is written as a merge patch, where an absent key keeps the old message.
            status.message = message ?? ""
            status.lastValidationTime = now
            location.status = status
            if changed {
                server.logger.info(
                    "backup storage location \(name) is \(phase.rawValue)\(message.map { ": \($0)" } ?? "")"
                )
            }
            return true
        }
        if written == nil { server.logger.debug("backup storage location \(name) is gone") }
    }

    private func probe(_ name: String) async -> (BackupStorageLocation.Phase, String?) {
        do {
            let location = try await server.storage.resolve(name, create: false)
            try await location.repository.store.checkAccess()
            return (.available, nil)
        } catch ChunkStoreError.repositoryNotFound(let store) {
            // A local location's directory that is not there is not a store (as a missing bucket is not).
            if store.hasPrefix("/"),
                (try? await BlockingPool.shared.run { try FileSystem.statusIfExists(store) }) == nil
            {
                return (.unavailable, "directory \(store) does not exist")
            }
            // Reached, and no config in it.
            return (.available, "the store is reachable and empty; the first backup creates it")
        } catch {
            return (.unavailable, "\(error)")
        }
    }

    /// A location's own period (Go duration; "0" or "0s" turns the work off: nil), else `default`. A period that does
    /// not parse or is negative falls back to the default, as Velero's does.
    static func period(_ text: String?, default fallback: Duration) -> TimeInterval? {
        let seconds = Double(fallback.components.seconds) + Double(fallback.components.attoseconds) / 1e18
        guard let text, !text.isEmpty else { return seconds }
        guard let parsed = KubeDuration.seconds(text), parsed >= 0 else { return seconds }
        return parsed == 0 ? nil : parsed
    }
}
