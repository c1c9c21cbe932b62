import Logging
import VeleroAPI

extension NodeAgent {
    /// Opens the namespace's storage locations as the agent starts (the key's derivation, the config), in the
    /// background, so the first volume a backup or restore hands this node does not wait for it (about 0.1 s per
    /// encrypted store with the default key derivation). A location that does not open is left to the request
    /// that needs it, which retries the opening and reports why it failed.
    func openStorageLocations() async {
        let names: [String]
        do {
            names = try await client.list(BackupStorageLocation.resource, namespace: configuration.namespace).items
                .map(\.name)
        } catch {
            logger.debug("storage locations not opened ahead: \(error)")
            return
        }
        for name in names {
            do {
                _ = try await storage.resolve(name, create: false)
            } catch {
                logger.debug("storage location \(name) not opened ahead: \(error)")
            }
        }
    }
}
