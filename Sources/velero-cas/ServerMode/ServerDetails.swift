import Foundation
import VeleroAPI

/// `describe --details` through the server, as Velero's CLI does it: the backup's or restore's files are fetched
/// through DownloadRequests (resource list, volume information, results) and printed after the object. A file that
/// cannot be fetched is reported in its section, and the rest still prints.
enum ServerDetails {
    static func backup(_ session: ServerSession, _ name: String) async {
        await section("Resource List", session, .backupResourceList, name) { (list: [String: [String]]) in
            resourceList(list)
        }
        await section("Backup Volumes", session, .backupVolumeInfos, name) { (volumes: [BackupVolumeInfo]) in
            if volumes.isEmpty { print("  <none included>") }
            for volume in volumes { print("  \(volume.line)") }
        }
        await results(session, .backupResults, name)
    }

    static func restore(_ session: ServerSession, _ name: String) async {
        await section("Resource List", session, .restoreResourceList, name) { (list: [String: [String]]) in
            resourceList(list)
        }
        await results(session, .restoreResults, name)
    }

    /// Prints "<title>:" and what `body` makes of the decoded file, or why there is none.
    private static func section<T: Decodable>(
        _ title: String, _ session: ServerSession, _ kind: DownloadRequest.TargetKind, _ name: String,
        _ body: (T) -> Void
    ) async {
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: try await session.fetch(kind, name))
        } catch {
            return print("\(title):  <error getting \(kind.rawValue): \(error)>")
        }
        print("\(title):")
        body(value)
    }

    private static func resourceList(_ list: [String: [String]]) {
        if list.isEmpty { print("  <none>") }
        for kind in list.keys.sorted() {
            print("  \(kind):")
            for item in list[kind]!.sorted() { print("    - \(item)") }
        }
    }

    private static func results(_ session: ServerSession, _ kind: DownloadRequest.TargetKind, _ name: String) async {
        let results: RunResults
        do {
            results = try JSONDecoder().decode(RunResults.self, from: try await session.fetch(kind, name))
        } catch {
            return print("Errors and warnings:  <error getting \(kind.rawValue): \(error)>")
        }
        messages("Errors", results.errors)
        messages("Warnings", results.warnings)
    }

    private static func messages(_ title: String, _ messages: RunResults.Messages?) {
        print("\(title):")
        func list(_ label: String, _ values: [String]?) {
            guard let values, !values.isEmpty else { return print("  \(label)<none>") }
            print("  \(label)\(values[0])")
            let indent = String(repeating: " ", count: label.count + 2)
            for value in values.dropFirst() { print("\(indent)\(value)") }
        }
        list("Velero:     ", messages?.velero)
        list("Cluster:    ", messages?.cluster)
        guard let namespaces = messages?.namespaces, !namespaces.isEmpty else { return print("  Namespaces: <none>") }
        print("  Namespaces:")
        for namespace in namespaces.keys.sorted() { list("  \(namespace):  ", namespaces[namespace]) }
    }
}

extension BackupVolumeInfo {
    /// One line of `describe --details`.
    var line: String {
        var subject: String
        if let pod = pvbInfo {
            subject = "pod volume \(pod.podNamespace)/\(pod.podName)/\(pod.volumeName)"
            if let node = pod.nodeName { subject += " on node \(node)" }
        } else {
            subject = "persistent volume \(pvName ?? "?")"
            if let pvcName { subject += " (claim \(pvcNamespace.map { "\($0)/" } ?? "")\(pvcName))" }
        }
        if let path { subject += " \(path)" }
        let method = backupMethod.map { " [\($0)]" } ?? ""
        if skipped == true { return "\(subject)\(method): skipped: \(skippedReason ?? "")" }
        guard result == "succeeded" else {
            return "\(subject)\(method): failed\(skippedReason.map { ": \($0)" } ?? "")"
        }
        var state = files.map { "\($0) files" } ?? "backed up"
        if let bytes { state += ", \(Format.bytes(bytes))" }
        if let newStoredBytes { state += " (\(Format.bytes(newStoredBytes)) new)" }
        return "\(subject)\(method): \(state)"
    }
}
