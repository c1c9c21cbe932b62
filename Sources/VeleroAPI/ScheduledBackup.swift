import Foundation

extension Schedule {
    /// `<schedule>-<yyyyMMddHHmmss>` in UTC: the name of the backup the schedule makes at `date` (Velero's
    /// TimestampedName).
    public func timestampedName(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return "\(name)-\(formatter.string(from: date))"
    }

    /// The Backup this schedule makes, as JSON for a create: the template as its spec; the template's labels (else
    /// the schedule's) plus `velero.io/schedule-name` = `scheduleLabel`; the schedule's annotations; and with
    /// `useOwnerReferencesInBackup` the schedule as its controlling owner. The server's schedule controller and
    /// `backup create --from-schedule` both build it here.
    public func backupJSON(named backupName: String, namespace: String, scheduleLabel: String) throws -> [UInt8] {
        var backup = Backup(name: backupName, namespace: namespace, spec: spec.template)
        var labels = spec.template.metadata?.labels ?? metadata.labels ?? [:]
        labels[Velero.scheduleNameLabel] = scheduleLabel
        backup.metadata.labels = labels
        if let annotations = metadata.annotations, !annotations.isEmpty { backup.metadata.annotations = annotations }
        let json = try backup.encoded()
        guard spec.useOwnerReferencesInBackup == true, let uid = metadata.uid,
            var object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
            var objectMetadata = object["metadata"] as? [String: Any]
        else { return json }
        objectMetadata["ownerReferences"] = [
            ["apiVersion": Velero.apiVersion, "kind": Schedule.kind, "name": name, "uid": uid, "controller": true]
        ]
        object["metadata"] = objectMetadata
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}
