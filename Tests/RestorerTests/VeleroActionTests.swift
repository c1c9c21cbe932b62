import BackupModel
import Foundation
import KubeClient
import Testing

@testable import Restorer

/// Velero's restore item actions, one object in, the expected object written out literally.
@Suite("Velero's restore item actions")
struct VeleroActionTests {
    static let pods = TransformTests.resource("", "pods", "Pod")

    /// The transform's output for `json`, and `expected` parsed, as comparable dictionaries.
    static func check(
        _ json: String, _ resource: APIResource, _ transform: ObjectTransform = ObjectTransform(), expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let out = try #require(try TransformTests.apply(json, resource, transform), sourceLocation: sourceLocation)
        let want = try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSDictionary
        #expect(NSDictionary(dictionary: out) == want, "got \(out)", sourceLocation: sourceLocation)
    }

    @Test("pods lose nodeName, priority and the service-account token volumes and their mounts")
    func pod() throws {
        let json = #"""
            {"metadata":{"name":"p","namespace":"n","uid":"u"},"spec":{"nodeName":"node-1","priority":1000,
             "priorityClassName":"high","serviceAccountName":"builder",
             "volumes":[{"name":"data","emptyDir":{}},{"name":"builder-token-x7k2p","secret":{"secretName":"builder-token-x7k2p"}},
                        {"name":"kube-api-access-abcde","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}},
                        {"name":"kube-api-access-cfg","configMap":{"name":"cfg"}}],
             "containers":[{"name":"app","image":"app:1","volumeMounts":[{"name":"data","mountPath":"/d"},
                {"name":"builder-token-x7k2p","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"},
                {"name":"kube-api-access-abcde","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}],
             "initContainers":[{"name":"init","image":"init:1","volumeMounts":[{"name":"builder-token-x7k2p","mountPath":"/t"}]}]},
             "status":{"phase":"Running"}}
            """#
        try Self.check(
            json, Self.pods,
            expected: #"""
                {"metadata":{"name":"p","namespace":"n"},"spec":{"priorityClassName":"high","serviceAccountName":"builder",
                 "volumes":[{"name":"data","emptyDir":{}},{"name":"kube-api-access-cfg","configMap":{"name":"cfg"}}],
                 "containers":[{"name":"app","image":"app:1","volumeMounts":[{"name":"data","mountPath":"/d"}]}],
                 "initContainers":[{"name":"init","image":"init:1"}]}}
                """#)
    }

    @Test("jobs lose the old controller uid from their selector and pod template labels")
    func job() throws {
        let json = #"""
            {"metadata":{"name":"j","namespace":"n","labels":{"controller-uid":"keep-on-the-job-itself"}},
             "spec":{"selector":{"matchLabels":{"controller-uid":"u1","batch.kubernetes.io/controller-uid":"u1","app":"x"}},
             "template":{"metadata":{"labels":{"controller-uid":"u1","batch.kubernetes.io/controller-uid":"u1",
               "job-name":"j","batch.kubernetes.io/job-name":"j"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}
            """#
        try Self.check(
            json, TransformTests.resource("batch", "jobs", "Job"),
            expected: #"""
                {"metadata":{"name":"j","namespace":"n","labels":{"controller-uid":"keep-on-the-job-itself"}},
                 "spec":{"selector":{"matchLabels":{"app":"x"}},
                 "template":{"metadata":{"labels":{"job-name":"j","batch.kubernetes.io/job-name":"j"}},
                 "spec":{"containers":[{"name":"c","image":"i"}]}}}}
                """#)
    }

    @Test("service accounts lose their auto-created token secret, not the others")
    func serviceAccount() throws {
        try Self.check(
            #"{"metadata":{"name":"builder","namespace":"n"},"secrets":[{"name":"builder-token-x7k2p"},{"name":"registry"}]}"#,
            TransformTests.resource("", "serviceaccounts", "ServiceAccount"),
            expected: #"{"metadata":{"name":"builder","namespace":"n"},"secrets":[{"name":"registry"}]}"#)
        try Self.check(
            #"{"metadata":{"name":"builder","namespace":"n"},"secrets":[{"name":"builder-token-x7k2p"}]}"#,
            TransformTests.resource("", "serviceaccounts", "ServiceAccount"),
            expected: #"{"metadata":{"name":"builder","namespace":"n"}}"#)
    }

    @Test(
        "service-account token secrets: skipped when their account exists in the target namespace, cleaned otherwise")
    func tokenSecret() throws {
        let secrets = TransformTests.resource("", "secrets", "Secret")
        let json = #"""
            {"metadata":{"name":"builder-token-x7k2p","namespace":"old","annotations":{
               "kubernetes.io/service-account.name":"builder","kubernetes.io/service-account.uid":"u1"}},
             "type":"kubernetes.io/service-account-token","data":{"token":"dA==","ca.crt":"Yw==","namespace":"b2xk"}}
            """#
        let skipping = ObjectTransform(namespaceMappings: ["old": "new"], serviceAccounts: ["new/builder"])
        #expect(
            try skipping.apply(Array(json.utf8), resource: secrets)
                == .skip(reason: "token secret of service account new/builder is recreated by the cluster"))
        // The account lives elsewhere: the secret is restored without the old token, CA and account uid.
        try Self.check(
            json, secrets,
            ObjectTransform(namespaceMappings: ["old": "new"], serviceAccounts: ["old/builder", "new/deployer"]),
            expected: #"""
                {"metadata":{"name":"builder-token-x7k2p","namespace":"new","annotations":{
                   "kubernetes.io/service-account.name":"builder"}},
                 "type":"kubernetes.io/service-account-token","data":{"namespace":"b2xk"}}
                """#)
        // Other secret types are untouched.
        try Self.check(
            #"{"metadata":{"name":"builder-token-x","namespace":"n"},"type":"Opaque","data":{"token":"dA=="}}"#,
            secrets, ObjectTransform(serviceAccounts: ["n/builder"]),
            expected:
                #"{"metadata":{"name":"builder-token-x","namespace":"n"},"type":"Opaque","data":{"token":"dA=="}}"#
        )
    }

    @Test(
        "Velero's non-restorable resources are skipped",
        arguments: [
            ("", "nodes"), ("", "events"), ("events.k8s.io", "events"), ("velero.io", "backups"),
            ("velero.io", "restores"), ("velero.io", "resticrepositories"), ("velero.io", "backuprepositories"),
            ("storage.k8s.io", "csinodes"), ("storage.k8s.io", "volumeattachments"),
        ])
    func nonRestorable(group: String, name: String) throws {
        let resource = TransformTests.resource(group, name, name, namespaced: false)
        guard case .skip = try ObjectTransform().apply(Array(#"{"metadata":{"name":"x"}}"#.utf8), resource: resource)
        else {
            Issue.record("\(resource) restored")
            return
        }
        var options = RestoreOptions()
        options.includeResources = [resource.qualifiedName]
        #expect(throws: RestoreError.self) { try options.validate() }
    }

    @Test("restore labels are added (and override the backup's), long names shortened as Velero's GetValidName")
    func labels() throws {
        let transform = ObjectTransform(restoreLabels: RestoreLabels.labels(backup: "nightly", restore: "move-1"))
        try Self.check(
            #"{"metadata":{"name":"c","namespace":"n","labels":{"app":"x","velero.io/restore-name":"older"}}}"#,
            TransformTests.resource("", "configmaps", "ConfigMap"), transform,
            expected: #"""
                {"metadata":{"name":"c","namespace":"n","labels":{"app":"x","velero.io/backup-name":"nightly",
                 "velero.io/restore-name":"move-1"}}}
                """#)
        let long = String(repeating: "a", count: 70)
        // printf "a%.0s" {1..70} | sha256sum → 6bd5e5…; the first 57 characters, then 6 hex digits.
        #expect(RestoreLabels.validValue(long) == String(repeating: "a", count: 57) + "6bd5e5")
        #expect(RestoreLabels.validValue(String(repeating: "b", count: 63)) == String(repeating: "b", count: 63))
    }

    @Test("status: included resources keep it unless excluded; '*' includes all")
    func status() throws {
        let deployments = TransformTests.resource("apps", "deployments", "Deployment")
        let json = #"{"metadata":{"name":"d","namespace":"n"},"status":{"replicas":2}}"#
        let kept = ObjectTransform(statusIncludedResources: ["deployments.apps"])
        #expect(try TransformTests.apply(json, deployments, kept)?["status"] != nil)
        let all = ObjectTransform(statusIncludedResources: ["*"], statusExcludedResources: ["deployments"])
        #expect(try TransformTests.apply(json, deployments, all)?["status"] == nil)
        let star = ObjectTransform(statusIncludedResources: ["*"])
        #expect(try TransformTests.apply(json, deployments, star)?["status"] != nil)
    }

    @Test("change-storage-class maps PVs, claims and StatefulSet claim templates; a missing target class fails")
    func storageClass() throws {
        let plugins = PluginConfiguration(storageClasses: ["slow": "fast"], existingStorageClasses: ["fast"])
        try Self.check(
            #"{"metadata":{"name":"c","namespace":"n"},"spec":{"storageClassName":"slow"}}"#,
            TransformTests.resource("", "persistentvolumeclaims", "PersistentVolumeClaim"),
            ObjectTransform(plugins: plugins),
            expected: #"{"metadata":{"name":"c","namespace":"n"},"spec":{"storageClassName":"fast"}}"#)
        try Self.check(
            #"{"metadata":{"name":"v"},"spec":{"storageClassName":"other"}}"#,
            TransformTests.resource("", "persistentvolumes", "PersistentVolume", namespaced: false),
            ObjectTransform(plugins: plugins),
            expected: #"{"metadata":{"name":"v"},"spec":{"storageClassName":"other"}}"#)
        try Self.check(
            #"{"metadata":{"name":"s","namespace":"n"},"spec":{"volumeClaimTemplates":[{"metadata":{"name":"a"},"spec":{"storageClassName":"slow"}},{"metadata":{"name":"b"},"spec":{}}]}}"#,
            TransformTests.resource("apps", "statefulsets", "StatefulSet"), ObjectTransform(plugins: plugins),
            expected:
                #"{"metadata":{"name":"s","namespace":"n"},"spec":{"volumeClaimTemplates":[{"metadata":{"name":"a"},"spec":{"storageClassName":"fast"}},{"metadata":{"name":"b"},"spec":{}}]}}"#
        )
        let missing = ObjectTransform(plugins: PluginConfiguration(storageClasses: ["slow": "gone"]))
        #expect(throws: PluginError.missingStorageClass("gone", mappedFrom: "slow")) {
            try missing.apply(
                Array(#"{"metadata":{"name":"c","namespace":"n"},"spec":{"storageClassName":"slow"}}"#.utf8),
                resource: TransformTests.resource("", "persistentvolumeclaims", "PersistentVolumeClaim"))
        }
    }

    @Test("change-image-name replaces in containers and init containers of pods, templates and cron jobs")
    func imageName() throws {
        let rules = PluginConfiguration.imageNameRules([
            "case1": "docker.io/library,registry.local/mirror", "case2": "no-comma", "case3": "busybox,",
            "case4": ":1.0,:2.0",
        ])
        #expect(
            rules.map { [$0.old, $0.new] } == [["docker.io/library", "registry.local/mirror"], [":1.0", ":2.0"]])
        let transform = ObjectTransform(plugins: PluginConfiguration(imageNames: rules))
        try Self.check(
            #"{"metadata":{"name":"p","namespace":"n"},"spec":{"containers":[{"name":"a","image":"docker.io/library/nginx:1.0"},{"name":"b","image":"app:1.0"},{"name":"c","image":"other"}],"initContainers":[{"name":"i","image":"docker.io/library/busybox"}]}}"#,
            Self.pods, transform,
            expected:
                #"{"metadata":{"name":"p","namespace":"n"},"spec":{"containers":[{"name":"a","image":"registry.local/mirror/nginx:1.0"},{"name":"b","image":"app:2.0"},{"name":"c","image":"other"}],"initContainers":[{"name":"i","image":"registry.local/mirror/busybox"}]}}"#
        )
        try Self.check(
            #"{"metadata":{"name":"d","namespace":"n"},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"web:1.0"}]}}}}"#,
            TransformTests.resource("apps", "deployments", "Deployment"), transform,
            expected:
                #"{"metadata":{"name":"d","namespace":"n"},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"web:2.0"}]}}}}"#
        )
        try Self.check(
            #"{"metadata":{"name":"c","namespace":"n"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"initContainers":[{"name":"a","image":"job:1.0"}]}}}}}}"#,
            TransformTests.resource("batch", "cronjobs", "CronJob"), transform,
            expected:
                #"{"metadata":{"name":"c","namespace":"n"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"initContainers":[{"name":"a","image":"job:2.0"}]}}}}}}"#
        )
        // Not a workload: untouched.
        try Self.check(
            #"{"metadata":{"name":"c","namespace":"n"},"data":{"image":"x:1.0"}}"#,
            TransformTests.resource("", "configmaps", "ConfigMap"), transform,
            expected: #"{"metadata":{"name":"c","namespace":"n"},"data":{"image":"x:1.0"}}"#)
    }

    @Test(
        "namespace include/exclude take globs",
        arguments: [
            (["team-*"], [String](), "team-a", true), (["team-*"], ["team-b*"], "team-b1", false),
            (["team-[ab]"], [], "team-c", false), (["t?am-a"], [], "team-a", true),
            (["*"], ["kube-*"], "kube-x", false),
            ([], ["kube-?"], "kube-a", false), ([], [], "anything", true),
        ])
    func namespaceGlobs(include: [String], exclude: [String], namespace: String, selected: Bool) {
        var options = RestoreOptions()
        options.includeNamespaces = include
        options.excludeNamespaces = exclude
        #expect(ResourceRestorer.namespaceSelected(namespace, options: options) == selected)
    }

    @Test("bad namespace patterns are refused naming the flag and the value")
    func badPatterns() {
        var options = RestoreOptions()
        options.includeNamespaces = ["Team_A"]
        #expect(
            throws: RestoreError.invalidOption("--include-namespaces 'Team_A' is not a valid namespace name or pattern")
        ) { try options.validate() }
        options.includeNamespaces = []
        options.excludeNamespaces = ["team-[ab"]
        #expect(
            throws: RestoreError.invalidOption(
                "--exclude-namespaces 'team-[ab' is not a valid namespace name or pattern")
        ) { try options.validate() }
    }

    @Test(
        "namespace mappings that did not come through the flag's parser are checked the same way",
        arguments: [
            (["a": "Bad_NS"], "'a:Bad_NS'"), (["-a": "b"], "'-a:b'"),
            (["a": "x", "b": "x"], "'a' and 'b' are both mapped to 'x'"),
        ])
    func badMappings(mappings: [String: String], mentions: String) {
        var options = RestoreOptions()
        options.namespaceMappings = mappings
        do {
            try options.validate()
            Issue.record("\(mappings) accepted")
        } catch {
            #expect(error.description.contains(mentions), "\(error)")
            #expect(error.description.contains("spec.namespaceMapping"), "\(error)")
        }
    }

    @Test("valid mappings, several sources on distinct targets, pass")
    func goodMappings() throws {
        var options = RestoreOptions()
        options.namespaceMappings = ["a": "b", "b": "c", "shop": "shop-copy"]
        try options.validate()
    }
}
