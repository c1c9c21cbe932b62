import BackupModel
import Collectors
import Foundation
import KubeClient
import Testing

@testable import Restorer

/// Init-container restore hooks as the transform applies them to a pod.
struct RestoreHookTransformTests {
    let pods = APIResource(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true)

    func initContainers(_ transform: ObjectTransform, _ pod: String) throws -> [String] {
        guard case .restore(let json, _, _) = try transform.apply(Array(pod.utf8), resource: pods),
            let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
            let spec = object["spec"] as? [String: Any]
        else { return ["not restored"] }
        return (spec["initContainers"] as? [[String: Any]] ?? []).map { $0["name"] as? String ?? "?" }
    }

    @Test("Velero's restore-wait stays first; annotation hooks win over rules; rules match the mapped namespace")
    func ordering() throws {
        var transform = ObjectTransform(namespaceMappings: ["a": "b"])
        transform.restoreHooks = RestoreHookRules(rules: [
            .init(
                name: "r", pods: HookPodSelector(includedNamespaces: ["b"]),
                initContainers: [Array(#"{"name":"from-rule","image":"i"}"#.utf8)], exec: [])
        ])
        let withWait = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a"},"spec":{"initContainers":[\
            {"name":"restore-wait","image":"w"},{"name":"own","image":"o"}],"containers":[{"name":"c","image":"x"}]}}
            """
        #expect(try initContainers(transform, withWait) == ["restore-wait", "from-rule", "own"])
        let annotated = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a","annotations":{\
            "init.hook.restore.velero.io/container-image":"img"}},"spec":{"containers":[{"name":"c","image":"x"}]}}
            """
        let names = try initContainers(transform, annotated)
        #expect(names.count == 1 && names[0].hasPrefix("velero-restore-init-"), "\(names)")
        var unmapped = transform
        unmapped.namespaceMappings = [:]
        #expect(try initContainers(unmapped, withWait) == ["restore-wait", "own"])
        let bad = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a","annotations":{\
            "init.hook.restore.velero.io/container-image":"img","init.hook.restore.velero.io/command":"[oops"}},\
            "spec":{"containers":[{"name":"c","image":"x"}]}}
            """
        #expect(throws: RestoreHookError.self) { try transform.apply(Array(bad.utf8), resource: pods) }
    }
}
