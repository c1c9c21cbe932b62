import BackupModel
import ChunkStore
import Foundation

extension BackupRecord {
    /// The store's backups for `get`, `describe` and `delete`: a damaged record is named on standard error and left
    /// out, so one bad object does not hide every other backup from the user.
    static func listSkippingDamaged(_ repository: Repository) async throws -> [BackupRecord] {
        try await list(repository) { key, reason in
            FileHandle.standardError.write(Data("Warning: \(key) is left out: \(reason)\n".utf8))
        }
    }
}
