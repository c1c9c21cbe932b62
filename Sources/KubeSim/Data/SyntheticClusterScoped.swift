/// Cluster-scoped objects: storage classes, one persistent volume per namespace, cluster roles and their bindings,
/// priority classes.
extension SyntheticWriter {
    mutating func addClusterScoped() {
        for (index, name) in SyntheticCluster.storageClasses.enumerated() {
            let identity = identity(namespace: "", name: name, labels: [("tier", "storage")])
            add("storageclasses.storage.k8s.io", identity, target: nil) { builder, identity, _ in
                builder.raw("{\"metadata\":")
                builder.metadata(
                    name: identity.name, namespace: "", uid: identity.uid, version: identity.version,
                    created: identity.created, labels: identity.labels,
                    annotations: index == 0 ? [("storageclass.kubernetes.io/is-default-class", "true")] : [])
                builder.raw(
                    ",\"provisioner\":\"kubernetes.io/no-provisioner\",\"reclaimPolicy\":\"Delete\","
                        + "\"volumeBindingMode\":\"WaitForFirstConsumer\"}")
            }
        }
        for (index, namespace) in summary.namespaceNames.enumerated() {
            let identity = identity(namespace: "", name: "pv-\(namespace)", labels: [("namespace", namespace)])
            let gigabytes = 1 << (index % 6)
            add("persistentvolumes", identity, target: nil) { builder, identity, _ in
                builder.raw("{\"metadata\":")
                builder.metadata(
                    name: identity.name, namespace: "", uid: identity.uid, version: identity.version,
                    created: identity.created, labels: identity.labels)
                builder.raw(
                    ",\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"capacity\":{\"storage\":\"\(gigabytes)Gi\"},"
                        + "\"hostPath\":{\"path\":\"/data/\(identity.name)\",\"type\":\"\"},"
                        + "\"persistentVolumeReclaimPolicy\":\"Retain\",\"storageClassName\":\"standard\","
                        + "\"volumeMode\":\"Filesystem\"},\"status\":{\"phase\":\"Available\"}}")
            }
        }
        for index in 1...SyntheticCluster.clusterRoles {
            let identity = identity(namespace: "", name: "example:app-reader-\(index)", labels: [("rbac", "generated")])
            add("clusterroles.rbac.authorization.k8s.io", identity, target: nil) { builder, identity, _ in
                builder.raw("{\"metadata\":")
                builder.metadata(
                    name: identity.name, namespace: "", uid: identity.uid, version: identity.version,
                    created: identity.created, labels: identity.labels)
                builder.raw(
                    ",\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\",\"pods\",\"services\"],"
                        + "\"verbs\":[\"get\",\"list\",\"watch\"]},{\"apiGroups\":[\"example.com\"],\"resources\":"
                        + "[\"widgets\"],\"verbs\":[\"get\",\"list\"]}]}")
            }
        }
        for index in 1...SyntheticCluster.clusterRoles {
            let identity = identity(
                namespace: "", name: "example:app-reader-\(index)-binding", labels: [("rbac", "generated")])
            let team = SyntheticCluster.apps[index % SyntheticCluster.apps.count]
            add("clusterrolebindings.rbac.authorization.k8s.io", identity, target: nil) { builder, identity, _ in
                builder.raw("{\"metadata\":")
                builder.metadata(
                    name: identity.name, namespace: "", uid: identity.uid, version: identity.version,
                    created: identity.created, labels: identity.labels)
                builder.raw(
                    #","roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","#
                        + #""name":"example:app-reader-\#(index)"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","#
                        + #""kind":"Group","name":"team:\#(team)"},{"kind":"ServiceAccount","name":"default","#
                        + #""namespace":"kube-system"}]}"#)
            }
        }
        for priority in SyntheticCluster.priorityClasses {
            let identity = identity(namespace: "", name: priority.name, labels: [("scheduling", "generated")])
            add("priorityclasses.scheduling.k8s.io", identity, target: nil) { builder, identity, _ in
                builder.raw("{\"description\":")
                builder.string(priority.description)
                builder.raw(",\"globalDefault\":\(priority.globalDefault),\"metadata\":")
                builder.metadata(
                    name: identity.name, namespace: "", uid: identity.uid, version: identity.version,
                    created: identity.created, labels: identity.labels)
                builder.raw(#","preemptionPolicy":"PreemptLowerPriority","value":\#(priority.value)}"#)
            }
        }
    }
}
