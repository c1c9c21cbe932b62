import Foundation
import KubeClient
import VeleroAPI

/// What `velero-cas install` makes, as Velero's install makes it: the velero.io CRDs (labelled
/// `component=velero`), the namespace, the `velero` ServiceAccount bound to `cluster-admin` (Velero's RBAC: a backup
/// reads every kind and a restore creates every kind, so a tighter role would have to list them all and follow
/// every CRD), the `cloud-credentials` Secret (key `cloud`, AWS INI), the secret holding the store's password, the
/// `default` BackupStorageLocation, and the `velero` Deployment running `velero-cas server`.
struct InstallManifests {
    struct Settings {
        var namespace = "velero"
        var image = "velero-cas:\(VersionCommand.current)"
        var replicas = 1
        /// nil: no default location (`--no-default-backup-location`).
        var location: Location?
        /// The credentials file's bytes (`--secret-file`); nil: no Secret.
        var credentials: [UInt8]?
        var storePassword: String
        var metricsPort = 8085
        var concurrentBackups = 1
        var garbageCollectionFrequency: String?
        var podAnnotations: [String: String] = [:]
        var podLabels: [String: String] = [:]
        var serviceAccountAnnotations: [String: String] = [:]
        /// An existing ServiceAccount to run as (`--service-account-name`): then no account and no binding are made.
        var existingServiceAccount: String?
        /// The node agent's DaemonSet (`--use-node-agent`), and the kubelet's root directory on the nodes.
        var useNodeAgent = false
        var kubeletRootDir = "/var/lib/kubelet"
        /// hostPath and local persistent volumes read by the agent of their node (`--node-agent-host-path-volumes`):
        /// the agents mount the node's root at `/host`.
        var hostPathVolumesOnNodeAgents = false
    }

    struct Location {
        var provider: String
        var bucket: String?
        var prefix: String?
        var config: [String: String]
    }

    static let labels: ManifestValue = ["component": "velero"]
    static let credentialsSecret = "cloud-credentials"
    static let passwordSecret = "velero-cas-store-password"
    static let serviceAccount = "velero"
    static let deployment = "velero"

    /// Velero names the binding `velero`, or `velero-<namespace>` outside the `velero` namespace.
    static func clusterRoleBinding(namespace: String) -> String {
        namespace == "velero" ? "velero" : "velero-\(namespace)"
    }

    /// The CRDs alone (`--crds-only`), labelled so that `uninstall` finds them.
    static func crds() throws -> [ManifestValue] {
        try VeleroCRDs.all.map { definition in
            var object = try ManifestValue.parse(try definition.json())
            var metadata = object["metadata"] ?? [:]
            metadata["labels"] = labels
            object["metadata"] = metadata
            return object
        }
    }

    /// Everything, in the order it must be applied.
    static func all(_ settings: Settings) throws -> [ManifestValue] {
        let namespace = settings.namespace
        var objects = try crds()
        objects.append([
            "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace), "labels": labels],
        ])
        if settings.existingServiceAccount == nil {
            objects.append([
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": ["name": .string(clusterRoleBinding(namespace: namespace)), "labels": labels],
                "subjects": [
                    ["kind": "ServiceAccount", "namespace": .string(namespace), "name": .string(serviceAccount)]
                ],
                "roleRef": ["kind": "ClusterRole", "name": "cluster-admin", "apiGroup": "rbac.authorization.k8s.io"],
            ])
            var accountMetadata = meta(serviceAccount, namespace)
            if !settings.serviceAccountAnnotations.isEmpty {
                accountMetadata["annotations"] = strings(settings.serviceAccountAnnotations)
            }
            objects.append(["apiVersion": "v1", "kind": "ServiceAccount", "metadata": accountMetadata])
        }
        if let credentials = settings.credentials {
            objects.append(secret(credentialsSecret, namespace, key: "cloud", value: credentials))
        }
        objects.append(secret(passwordSecret, namespace, key: "password", value: Array(settings.storePassword.utf8)))
        if let location = settings.location { objects.append(backupStorageLocation(location, settings)) }
        objects.append(deploymentObject(settings))
        if settings.useNodeAgent { objects.append(nodeAgentDaemonSet(settings)) }
        return objects
    }

    static func meta(_ name: String, _ namespace: String) -> ManifestValue {
        ["name": .string(name), "namespace": .string(namespace), "labels": labels]
    }

    static func strings(_ values: [String: String]) -> ManifestValue {
        .object(values.mapValues { .string($0) })
    }

    private static func secret(_ name: String, _ namespace: String, key: String, value: [UInt8]) -> ManifestValue {
        [
            "apiVersion": "v1", "kind": "Secret", "metadata": meta(name, namespace), "type": "Opaque",
            "data": [key: .string(Data(value).base64EncodedString())],
        ]
    }

    private static func backupStorageLocation(_ location: Location, _ settings: Settings) -> ManifestValue {
        var spec: ManifestValue = ["provider": .string(location.provider), "default": true]
        if let bucket = location.bucket {
            var storage: ManifestValue = ["bucket": .string(bucket)]
            if let prefix = location.prefix, !prefix.isEmpty { storage["prefix"] = .string(prefix) }
            spec["objectStorage"] = storage
        }
        if !location.config.isEmpty { spec["config"] = strings(location.config) }
        if settings.credentials != nil { spec["credential"] = ["name": .string(credentialsSecret), "key": "cloud"] }
        return [
            "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": meta("default", settings.namespace), "spec": spec,
        ]
    }

    private static func deploymentObject(_ settings: Settings) -> ManifestValue {
        let port = settings.metricsPort
        var args: ManifestValue = [
            "server", .string("--namespace=\(settings.namespace)"), "--leader-elect=true",
            .string("--metrics-address=:\(port)"), .string("--concurrent-backups=\(settings.concurrentBackups)"),
            .string("--restore-helper-image=\(settings.image)"),
        ]
        if settings.hostPathVolumesOnNodeAgents, case .array(let items) = args {
            args = .array(items + ["--node-agent-host-path-volumes"])
        }
        if let frequency = settings.garbageCollectionFrequency, case .array(let items) = args {
            args = .array(items + [.string("--garbage-collection-frequency=\(frequency)")])
        }
        let (env, mounts, volumes) = storeAccess(
            settings, env: [["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]]])
        let probe: (String) -> ManifestValue = { path in
            ["httpGet": ["path": .string(path), "port": "metrics"], "periodSeconds": 10, "failureThreshold": 3]
        }
        let podLabels = settings.podLabels.merging(["component": "velero", "deploy": "velero"]) { _, ours in ours }
        let podAnnotations = [
            "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": "/metrics",
        ].merging(settings.podAnnotations) { _, theirs in theirs }
        let container: ManifestValue = [
            "name": "velero", "image": .string(settings.image), "imagePullPolicy": "IfNotPresent", "args": args,
            "ports": [["name": "metrics", "containerPort": .int(port)]], "env": .array(env),
            "volumeMounts": .array(mounts), "readinessProbe": probe("/readyz"), "livenessProbe": probe("/healthz"),
            "resources": [
                "requests": ["cpu": "500m", "memory": "128Mi"], "limits": ["cpu": "1000m", "memory": "512Mi"],
            ],
        ]
        return [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(deployment, settings.namespace),
            "spec": [
                "replicas": .int(settings.replicas), "selector": ["matchLabels": ["deploy": "velero"]],
                "template": [
                    "metadata": ["labels": strings(podLabels), "annotations": strings(podAnnotations)],
                    "spec": [
                        "serviceAccountName": .string(settings.existingServiceAccount ?? serviceAccount),
                        "restartPolicy": "Always",
                        "terminationGracePeriodSeconds": 3600, "containers": [container], "volumes": .array(volumes),
                    ],
                ],
            ],
        ]
    }

    /// What the server and the node agents need to open the store: the namespace, the store's password, a scratch
    /// directory, and the credentials file when there is one; `env` is added after the namespace.
    static func storeAccess(_ settings: Settings, env extra: [ManifestValue])
        -> (env: [ManifestValue], mounts: [ManifestValue], volumes: [ManifestValue])
    {
        var env: [ManifestValue] =
            [["name": "VELERO_NAMESPACE", "valueFrom": ["fieldRef": ["fieldPath": "metadata.namespace"]]]] + extra + [
                [
                    "name": "VELERO_CAS_PASSWORD",
                    "valueFrom": ["secretKeyRef": ["name": .string(passwordSecret), "key": "password"]],
                ],
                ["name": "VELERO_SCRATCH_DIR", "value": "/scratch"],
                ["name": "HOME", "value": "/scratch"],
            ]
        var mounts: [ManifestValue] = [["name": "scratch", "mountPath": "/scratch"]]
        var volumes: [ManifestValue] = [["name": "scratch", "emptyDir": [:]]]
        if settings.credentials != nil {
            env.append(["name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/credentials/cloud"])
            mounts.append(["name": .string(credentialsSecret), "mountPath": "/credentials"])
            volumes.append(["name": .string(credentialsSecret), "secret": ["secretName": .string(credentialsSecret)]])
        }
        return (env, mounts, volumes)
    }

    /// Where each kind install makes is served: group, plural, namespaced.
    private static let served: [String: (group: String, name: String, namespaced: Bool)] = [
        "CustomResourceDefinition": ("apiextensions.k8s.io", "customresourcedefinitions", false),
        "Namespace": ("", "namespaces", false),
        "ClusterRoleBinding": ("rbac.authorization.k8s.io", "clusterrolebindings", false),
        "ServiceAccount": ("", "serviceaccounts", true), "Secret": ("", "secrets", true),
        "BackupStorageLocation": ("velero.io", "backupstoragelocations", true),
        "Deployment": ("apps", "deployments", true), "DaemonSet": ("apps", "daemonsets", true),
    ]

    static func resource(of object: ManifestValue) -> APIResource? {
        let kind = object["kind"]?.string ?? ""
        guard let place = served[kind] else { return nil }
        return APIResource(
            group: place.group, version: "v1", name: place.name, kind: kind, namespaced: place.namespaced)
    }
}
