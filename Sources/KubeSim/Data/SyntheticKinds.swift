/// The shapes of the generated objects, written with keys in sorted order.
extension SyntheticWriter {
    mutating func addNamespace(_ name: String, team: String) {
        let identity = identity(
            namespace: "", name: name, labels: [("kubernetes.io/metadata.name", name), ("team", team)])
        add("namespaces", identity, target: nil, fields: ["status.phase": "Active"]) { builder, identity, _ in
            builder.raw("{\"metadata\":")
            builder.metadata(
                name: identity.name, namespace: "", uid: identity.uid, version: identity.version,
                created: identity.created, labels: identity.labels)
            builder.raw(",\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}")
        }
    }

    mutating func addNamespaced(_ kind: String, namespace: String, name: String, app: String, tier: String) {
        let labels = [("app", app), ("tier", tier)]
        let identity = identity(namespace: namespace, name: name, labels: labels)
        let target = targetSize()
        let selector = "{\"app\":\"\(app)\",\"tier\":\"\(tier)\"}"
        func meta(_ builder: inout ObjectBuilder, _ identity: Identity, notes: String?, generation: Int? = nil) {
            builder.metadata(
                name: identity.name, namespace: identity.namespace, uid: identity.uid, version: identity.version,
                created: identity.created, labels: identity.labels,
                annotations: notes.map { [("example.com/notes", $0)] } ?? [], generation: generation)
        }
        switch kind {
        case "configmaps":
            add(kind, identity, target: target) { builder, identity, filler in
                builder.raw("{\"data\":{\"app.properties\":")
                builder.string(filler)
                builder.raw(",\"log.level\":\"info\"},\"metadata\":")
                meta(&builder, identity, notes: nil)
                builder.raw("}")
            }
        case "secrets":
            add(kind, identity, target: target, fields: ["type": "Opaque"], base64Filler: true) {
                builder, identity, filler in
                builder.raw("{\"data\":{\"password\":\"c2VjcmV0LXBhc3N3b3Jk\",\"tls.key\":")
                builder.string(filler)
                builder.raw("},\"metadata\":")
                meta(&builder, identity, notes: nil)
                builder.raw(",\"type\":\"Opaque\"}")
            }
        case "services":
            let ip = "10.96.\(random.next() % 250).\(random.next() % 250 + 2)"
            add(kind, identity, target: target) { builder, identity, filler in
                builder.raw("{\"metadata\":")
                meta(&builder, identity, notes: filler)
                builder.raw(
                    ",\"spec\":{\"clusterIP\":\"\(ip)\",\"clusterIPs\":[\"\(ip)\"],\"internalTrafficPolicy\":\"Cluster\","
                        + "\"ipFamilies\":[\"IPv4\"],\"ipFamilyPolicy\":\"SingleStack\",\"ports\":[{\"name\":\"http\","
                        + "\"port\":80,\"protocol\":\"TCP\",\"targetPort\":8080}],\"selector\":\(selector),"
                        + "\"sessionAffinity\":\"None\",\"type\":\"ClusterIP\"},\"status\":{\"loadBalancer\":{}}}")
            }
        case "deployments.apps":
            let replicas = Int(random.next() % 5) + 1
            add(kind, identity, target: target) { builder, identity, filler in
                builder.raw("{\"metadata\":")
                meta(&builder, identity, notes: filler, generation: 1)
                builder.raw(
                    ",\"spec\":{\"progressDeadlineSeconds\":600,\"replicas\":\(replicas),\"revisionHistoryLimit\":10,"
                        + "\"selector\":{\"matchLabels\":\(selector)},\"strategy\":{\"rollingUpdate\":{\"maxSurge\":"
                        + "\"25%\",\"maxUnavailable\":\"25%\"},\"type\":\"RollingUpdate\"},\"template\":{\"metadata\":"
                        + "{\"labels\":\(selector)},\"spec\":\(Self.podSpec(app: app, node: nil))}},\"status\":{"
                        + "\"availableReplicas\":\(replicas),\"observedGeneration\":1,\"readyReplicas\":\(replicas),"
                        + "\"replicas\":\(replicas),\"updatedReplicas\":\(replicas)}}")
            }
        case "serviceaccounts":
            add(kind, identity, target: target) { builder, identity, filler in
                builder.raw("{\"metadata\":")
                meta(&builder, identity, notes: filler)
                builder.raw("}")
            }
        case "pods":
            let node = "node-\(random.next() % 8)"
            let podIP = "10.244.\(random.next() % 250).\(random.next() % 250 + 2)"
            let fields = [
                "spec.nodeName": node, "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
                "spec.serviceAccountName": "default", "status.phase": "Running", "status.podIP": podIP,
            ]
            add(kind, identity, target: target, fields: fields) { builder, identity, filler in
                builder.raw("{\"metadata\":")
                meta(&builder, identity, notes: filler)
                builder.raw(
                    ",\"spec\":\(Self.podSpec(app: app, node: node)),\"status\":{\"conditions\":[{\"lastTransitionTime\":"
                        + "\"\(identity.created)\",\"status\":\"True\",\"type\":\"Ready\"}],\"hostIP\":\"10.0.0.1\","
                        + "\"phase\":\"Running\",\"podIP\":\"\(podIP)\",\"qosClass\":\"Burstable\",\"startTime\":"
                        + "\"\(identity.created)\"}}")
            }
        default:
            let size = ["small", "medium", "large"].randomElement(using: &random)!
            add(kind, identity, target: target) { builder, identity, filler in
                builder.raw("{\"metadata\":")
                meta(&builder, identity, notes: nil, generation: 1)
                builder.raw(",\"spec\":{\"color\":\"blue\",\"description\":")
                builder.string(filler)
                builder.raw(",\"replicas\":3,\"size\":\"\(size)\"},\"status\":{\"ready\":true}}")
            }
        }
    }

    static func podSpec(app: String, node: String?) -> String {
        "{\"containers\":[{\"env\":[{\"name\":\"APP\",\"value\":\"\(app)\"},{\"name\":\"LOG_LEVEL\",\"value\":\"info\"}],"
            + "\"image\":\"registry.example.com/\(app):1.4.2\",\"imagePullPolicy\":\"IfNotPresent\",\"name\":\"\(app)\","
            + "\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],\"resources\":{\"limits\":{\"cpu\":\"500m\","
            + "\"memory\":\"256Mi\"},\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}},\"terminationMessagePath\":"
            + "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\"}],\"dnsPolicy\":\"ClusterFirst\","
            + (node.map { "\"nodeName\":\"\($0)\"," } ?? "")
            + "\"restartPolicy\":\"Always\",\"schedulerName\":\"default-scheduler\",\"securityContext\":{},"
            + "\"serviceAccountName\":\"default\",\"terminationGracePeriodSeconds\":30}"
    }

    mutating func addClusterScoped() {
        for (index, name) in ["standard", "fast-ssd", "archive"].enumerated() {
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
        for index in 1...5 {
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
    }

    mutating func addWidgetDefinition() {
        let type = SyntheticCluster.widgetType
        let created = created()
        let definition: JSONValue = [
            "metadata": [
                "name": "widgets.example.com", "uid": .string(Identifiers.uuid(using: &random)),
                "resourceVersion": .string(String(nextVersion())), "creationTimestamp": .string(created),
                "generation": 1,
            ],
            "spec": [
                "group": "example.com", "scope": "Namespaced",
                "names": [
                    "plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList",
                    "shortNames": ["wd"],
                ],
                "versions": [
                    [
                        "name": "v1", "served": true, "storage": true,
                        "schema": [
                            "openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
                        ],
                    ]
                ],
            ],
        ]
        var complete = definition
        complete["status"] = CustomResources.acceptedStatus(for: type, definition: definition, now: created)
        let definitionType = ResourceType.builtIn.first { $0.key == CustomResources.definitionKey }!
        let object = StoredObject.encode(complete, type: definitionType)
        objects[CustomResources.definitionKey, default: []].append(object)
        summary.counts[CustomResources.definitionKey, default: 0] += 1
        summary.bytes += object.body.count
    }
}
