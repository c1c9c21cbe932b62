/// The shapes of the generated objects, written with keys in sorted order (so a body is exactly what the server
/// would encode). Randomness is drawn before `add`: its closure runs twice, once to measure, once to write.
extension SyntheticWriter {
    /// One namespaced object about to be written: its type, identity, size target and app/tier.
    struct Placement {
        var key: String
        var identity: Identity
        var target: Int
        var app: String
        var tier: String
        /// `{"app":"…","tier":"…"}`, the labels selectors and pod templates use.
        var selector: String
    }

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

    mutating func addNamespaced(_ key: String, namespace: String, name: String, app: String, tier: String) {
        let identity = identity(namespace: namespace, name: name, labels: [("app", app), ("tier", tier)])
        let place = Placement(
            key: key, identity: identity, target: targetSize(), app: app, tier: tier,
            selector: #"{"app":"\#(app)","tier":"\#(tier)"}"#)
        switch key {
        case "configmaps": addConfigMap(place)
        case "secrets": addSecret(place)
        case "services": addService(place)
        case "endpoints": addEndpoints(place)
        case "serviceaccounts": addWithNotes(place, tail: "}")
        case "pods": addPod(place)
        case "persistentvolumeclaims": addClaim(place)
        case "limitranges": addLimitRange(place)
        case "resourcequotas": addResourceQuota(place)
        case "deployments.apps": addDeployment(place)
        case "replicasets.apps": addReplicaSet(place)
        case "statefulsets.apps": addStatefulSet(place)
        case "daemonsets.apps": addDaemonSet(place)
        case "jobs.batch": addJob(place)
        case "cronjobs.batch": addCronJob(place)
        case "roles.rbac.authorization.k8s.io": addRole(place)
        case "rolebindings.rbac.authorization.k8s.io": addRoleBinding(place)
        case "ingresses.networking.k8s.io": addIngress(place)
        case "networkpolicies.networking.k8s.io": addNetworkPolicy(place)
        case "poddisruptionbudgets.policy": addDisruptionBudget(place)
        case "widgets.example.com": addWidget(place)
        case "gizmos.example.com": addGizmo(place)
        case "sprockets.tools.example.org": addSprocket(place)
        case "backups.db.example.net": addBackup(place)
        default: preconditionFailure("no shape for \(key)")
        }
    }

    /// Metadata with the filler as an `example.com/notes` annotation (when given) beside `annotations`.
    static func meta(
        _ builder: inout ObjectBuilder, _ identity: Identity, notes: String?, annotations: [(String, String)] = [],
        generation: Int? = nil, owners: String? = nil
    ) {
        var all = annotations
        if let notes { all.append(("example.com/notes", notes)) }
        builder.metadata(
            name: identity.name, namespace: identity.namespace, uid: identity.uid, version: identity.version,
            created: identity.created, labels: identity.labels, annotations: all, generation: generation,
            owners: owners)
    }

    /// `{"metadata":…` with the filler in an annotation, then `tail` (the sorted keys after metadata and the
    /// closing brace).
    mutating func addWithNotes(
        _ place: Placement, identity: Identity? = nil, fields: [String: String] = [:],
        annotations: [(String, String)] = [], generation: Int? = nil, owners: String? = nil, tail: String
    ) {
        add(place.key, identity ?? place.identity, target: place.target, fields: fields) { builder, identity, filler in
            builder.raw("{\"metadata\":")
            Self.meta(
                &builder, identity, notes: filler, annotations: annotations, generation: generation, owners: owners)
            builder.raw(tail)
        }
    }

    mutating func addConfigMap(_ place: Placement) {
        add(place.key, place.identity, target: place.target) { builder, identity, filler in
            builder.raw("{\"data\":{\"app.properties\":")
            builder.string(filler)
            builder.raw(",\"log.level\":\"info\"},\"metadata\":")
            Self.meta(&builder, identity, notes: nil)
            builder.raw("}")
        }
    }

    mutating func addSecret(_ place: Placement) {
        add(place.key, place.identity, target: place.target, fields: ["type": "Opaque"], base64Filler: true) {
            builder, identity, filler in
            builder.raw("{\"data\":{\"password\":\"c2VjcmV0LXBhc3N3b3Jk\",\"tls.key\":")
            builder.string(filler)
            builder.raw("},\"metadata\":")
            Self.meta(&builder, identity, notes: nil)
            builder.raw(",\"type\":\"Opaque\"}")
        }
    }

    mutating func addService(_ place: Placement) {
        let ip = "10.96.\(random.next() % 250).\(random.next() % 250 + 2)"
        addWithNotes(
            place,
            tail: #","spec":{"clusterIP":"\#(ip)","clusterIPs":["\#(ip)"],"internalTrafficPolicy":"Cluster","#
                + #""ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","ports":[{"name":"http","port":80,"#
                + #""protocol":"TCP","targetPort":8080}],"selector":\#(place.selector),"sessionAffinity":"None","#
                + #""type":"ClusterIP"},"status":{"loadBalancer":{}}}"#)
    }

    mutating func addEndpoints(_ place: Placement) {
        var addresses: [String] = []
        for _ in 0..<(1 + Int(random.next() % 3)) {
            let ip = "10.244.\(random.next() % 250).\(random.next() % 250 + 2)"
            let pod = place.app + "-" + Identifiers.randomSuffix(length: 5, using: &random)
            addresses.append(
                #"{"ip":"\#(ip)","nodeName":"node-\#(random.next() % 8)","targetRef":{"kind":"Pod","name":"\#(pod)","#
                    + #""namespace":"\#(place.identity.namespace)","uid":"\#(Identifiers.uuid(using: &random))"}}"#)
        }
        addWithNotes(
            place,
            tail: #","subsets":[{"addresses":[\#(addresses.joined(separator: ","))],"ports":[{"name":"http","#
                + #""port":8080,"protocol":"TCP"}]}]}"#)
    }

    mutating func addPod(_ place: Placement) {
        let node = "node-\(random.next() % 8)"
        let podIP = "10.244.\(random.next() % 250).\(random.next() % 250 + 2)"
        let fields = [
            "spec.nodeName": node, "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
            "spec.serviceAccountName": "default", "status.phase": "Running", "status.podIP": podIP,
        ]
        let created = place.identity.created
        addWithNotes(
            place, fields: fields,
            tail: #","spec":\#(Self.podSpec(app: place.app, node: node)),"status":{"conditions":[{"#
                + #""lastTransitionTime":"\#(created)","status":"True","type":"Ready"}],"hostIP":"10.0.0.1","#
                + #""phase":"Running","podIP":"\#(podIP)","qosClass":"Burstable","startTime":"\#(created)"}}"#)
    }

    mutating func addClaim(_ place: Placement) {
        let size = ["1Gi", "5Gi", "10Gi", "20Gi", "50Gi", "100Gi"].randomElement(using: &random)!
        let storageClass = SyntheticCluster.storageClasses.randomElement(using: &random)!
        let volume = "pvc-" + Identifiers.uuid(using: &random)
        addWithNotes(
            place,
            annotations: [("pv.kubernetes.io/bind-completed", "yes"), ("pv.kubernetes.io/bound-by-controller", "yes")],
            tail: #","spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"\#(size)"}},"#
                + #""storageClassName":"\#(storageClass)","volumeMode":"Filesystem","volumeName":"\#(volume)"},"#
                + #""status":{"accessModes":["ReadWriteOnce"],"capacity":{"storage":"\#(size)"},"phase":"Bound"}}"#)
    }

    mutating func addLimitRange(_ place: Placement) {
        let cpu = [1, 2, 4].randomElement(using: &random)!
        let memory = [1, 2, 4, 8].randomElement(using: &random)!
        addWithNotes(
            place,
            tail: #","spec":{"limits":[{"default":{"cpu":"500m","memory":"512Mi"},"defaultRequest":{"cpu":"100m","#
                + #""memory":"128Mi"},"max":{"cpu":"\#(cpu)","memory":"\#(memory)Gi"},"min":{"cpu":"10m","#
                + #""memory":"16Mi"},"type":"Container"},{"max":{"storage":"100Gi"},"min":{"storage":"1Gi"},"#
                + #""type":"PersistentVolumeClaim"}]}}"#)
    }

    mutating func addResourceQuota(_ place: Placement) {
        let scale = 1 << (random.next() % 4)
        func used(_ limit: Int) -> Int { Int(random.next() % UInt64(limit + 1)) }
        let hard =
            #"{"configmaps":"\#(50 * scale)","limits.cpu":"\#(8 * scale)","limits.memory":"\#(16 * scale)Gi","#
            + #""persistentvolumeclaims":"\#(10 * scale)","pods":"\#(40 * scale)","requests.cpu":"\#(4 * scale)","#
            + #""requests.memory":"\#(8 * scale)Gi","secrets":"\#(50 * scale)","services":"\#(20 * scale)"}"#
        let inUse =
            #"{"configmaps":"\#(used(50 * scale))","limits.cpu":"\#(used(8 * scale))","#
            + #""limits.memory":"\#(used(16 * scale))Gi","persistentvolumeclaims":"\#(used(10 * scale))","#
            + #""pods":"\#(used(40 * scale))","requests.cpu":"\#(used(4 * scale))","#
            + #""requests.memory":"\#(used(8 * scale))Gi","secrets":"\#(used(50 * scale))","#
            + #""services":"\#(used(20 * scale))"}"#
        addWithNotes(place, tail: #","spec":{"hard":\#(hard)},"status":{"hard":\#(hard),"used":\#(inUse)}}"#)
    }

    /// A pod spec with one container; `node` set for scheduled pods, unset in templates.
    static func podSpec(app: String, node: String?, restartPolicy: String = "Always") -> String {
        #"{"containers":[{"env":[{"name":"APP","value":"\#(app)"},{"name":"LOG_LEVEL","value":"info"}],"#
            + #""image":"registry.example.com/\#(app):1.4.2","imagePullPolicy":"IfNotPresent","name":"\#(app)","#
            + #""ports":[{"containerPort":8080,"protocol":"TCP"}],"resources":{"limits":{"cpu":"500m","#
            + #""memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}},"terminationMessagePath":"#
            + #""/dev/termination-log","terminationMessagePolicy":"File"}],"dnsPolicy":"ClusterFirst","#
            + (node.map { #""nodeName":"\#($0)","# } ?? "")
            + #""restartPolicy":"\#(restartPolicy)","schedulerName":"default-scheduler","securityContext":{},"#
            + #""serviceAccountName":"default","terminationGracePeriodSeconds":30}"#
    }
}
