import Foundation
import VeleroAPI

extension InstallManifests {
    static let nodeAgent = "node-agent"

    /// The node agent's DaemonSet (`install --use-node-agent`), as Velero's `node-agent`: one pod per node running
    /// `velero-cas node-agent`, its node from the downward API (`NODE_NAME` = `spec.nodeName`), the kubelet's pod
    /// directories (`<kubelet root>/pods`) mounted from the host at the same path with HostToContainer propagation
    /// (volumes the kubelet mounts later, CSI ones, are seen), run as root (it reads and writes every pod's files and
    /// restores their owners), and the store's password and credentials as the server has them. With
    /// `--node-agent-host-path-volumes` it also mounts the node's root at `/host`, for hostPath and local volumes.
    static func nodeAgentDaemonSet(_ settings: Settings) -> ManifestValue {
        let root = settings.kubeletRootDir
        let pods = root.hasSuffix("/") ? root + "pods" : root + "/pods"
        let (env, storeMounts, storeVolumes) = storeAccess(
            settings, env: [["name": "NODE_NAME", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]]])
        var mounts =
            storeMounts + [["name": "host-pods", "mountPath": .string(pods), "mountPropagation": "HostToContainer"]]
        var volumes = storeVolumes + [["name": "host-pods", "hostPath": ["path": .string(pods), "type": "Directory"]]]
        var args: [ManifestValue] = [
            "node-agent", .string("--namespace=\(settings.namespace)"), .string("--kubelet-root-dir=\(root)"),
        ]
        if settings.hostPathVolumesOnNodeAgents {
            mounts.append(["name": "host-root", "mountPath": "/host", "mountPropagation": "HostToContainer"])
            volumes.append(["name": "host-root", "hostPath": ["path": "/", "type": "Directory"]])
            args.append("--host-root-dir=/host")
        }
        let podLabels = settings.podLabels.merging(["component": "velero", "name": nodeAgent, "role": "node-agent"]) {
            _, ours in ours
        }
        let container: ManifestValue = [
            "name": .string(nodeAgent), "image": .string(settings.image), "imagePullPolicy": "IfNotPresent",
            "args": .array(args),
            "env": .array(env), "volumeMounts": .array(mounts),
            "securityContext": ["privileged": false],
            "resources": ["requests": ["cpu": "500m", "memory": "512Mi"], "limits": ["memory": "2Gi"]],
        ]
        return [
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(nodeAgent, settings.namespace),
            "spec": [
                "selector": ["matchLabels": ["name": .string(nodeAgent)]],
                "template": [
                    "metadata": [
                        "labels": strings(podLabels), "annotations": strings(settings.podAnnotations),
                    ],
                    "spec": [
                        "serviceAccountName": .string(settings.existingServiceAccount ?? serviceAccount),
                        "securityContext": ["runAsUser": 0], "terminationGracePeriodSeconds": 3600,
                        "containers": [container], "volumes": .array(volumes),
                    ],
                ],
            ],
        ]
    }
}
