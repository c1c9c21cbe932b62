/// Workloads: deployments and their replica sets, stateful sets, daemon sets, jobs and cron jobs.
extension SyntheticWriter {
    /// An ownerReferences array naming one controlling owner.
    mutating func controllerReference(apiVersion: String, kind: String, name: String) -> String {
        #"[{"apiVersion":"\#(apiVersion)","blockOwnerDeletion":true,"controller":true,"kind":"\#(kind)","#
            + #""name":"\#(name)","uid":"\#(Identifiers.uuid(using: &random))"}]"#
    }

    mutating func addDeployment(_ place: Placement) {
        let replicas = Int(random.next() % 5) + 1
        let revision = Int(random.next() % 12) + 1
        let podSpec = Self.podSpec(app: place.app, node: nil)
        let time = place.identity.later(60)
        addWithNotes(
            place, annotations: [("deployment.kubernetes.io/revision", String(revision))], generation: 1,
            tail: #","spec":{"progressDeadlineSeconds":600,"replicas":\#(replicas),"revisionHistoryLimit":10,"#
                + #""selector":{"matchLabels":\#(place.selector)},"strategy":{"rollingUpdate":{"maxSurge":"25%","#
                + #""maxUnavailable":"25%"},"type":"RollingUpdate"},"template":{"metadata":{"labels":"#
                + #"\#(place.selector)},"spec":\#(podSpec)}},"status":{"availableReplicas":\#(replicas),"#
                + #""conditions":[{"lastTransitionTime":"\#(time)","lastUpdateTime":"\#(time)","#
                + #""message":"Deployment has minimum availability.","reason":"MinimumReplicasAvailable","#
                + #""status":"True","type":"Available"}],"observedGeneration":1,"readyReplicas":\#(replicas),"#
                + #""replicas":\#(replicas),"updatedReplicas":\#(replicas)}}"#)
    }

    mutating func addReplicaSet(_ place: Placement) {
        // Most replica sets of a deployment are old revisions scaled to zero.
        let replicas = random.next() % 3 == 0 ? Int(random.next() % 5) + 1 : 0
        let revision = Int(random.next() % 12) + 1
        let hash = Identifiers.randomSuffix(length: 10, using: &random)
        let owners = controllerReference(
            apiVersion: "apps/v1", kind: "Deployment", name: "\(place.app)-deploy-\(random.next() % 4 + 1)")
        var identity = place.identity
        identity.labels.append(("pod-template-hash", hash))
        let selector = #"{"app":"\#(place.app)","pod-template-hash":"\#(hash)","tier":"\#(place.tier)"}"#
        let status =
            replicas == 0
            ? #"{"observedGeneration":1,"replicas":0}"#
            : #"{"availableReplicas":\#(replicas),"fullyLabeledReplicas":\#(replicas),"observedGeneration":1,"#
                + #""readyReplicas":\#(replicas),"replicas":\#(replicas)}"#
        addWithNotes(
            place, identity: identity, fields: ["status.replicas": String(replicas)],
            annotations: [
                ("deployment.kubernetes.io/desired-replicas", String(replicas)),
                ("deployment.kubernetes.io/max-replicas", String(replicas + 1)),
                ("deployment.kubernetes.io/revision", String(revision)),
            ], generation: 1, owners: owners,
            tail: #","spec":{"replicas":\#(replicas),"selector":{"matchLabels":\#(selector)},"template":{"#
                + #""metadata":{"labels":\#(selector)},"spec":\#(Self.podSpec(app: place.app, node: nil))}},"#
                + #""status":\#(status)}"#)
    }

    mutating func addStatefulSet(_ place: Placement) {
        let replicas = Int(random.next() % 3) * 2 + 1
        let storage = [1, 10, 50, 100].randomElement(using: &random)!
        let revision = place.identity.name + "-" + Identifiers.randomSuffix(length: 10, using: &random)
        addWithNotes(
            place, generation: 1,
            tail: #","spec":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain","whenScaled":"Retain"},"#
                + #""podManagementPolicy":"OrderedReady","replicas":\#(replicas),"revisionHistoryLimit":10,"#
                + #""selector":{"matchLabels":\#(place.selector)},"serviceName":"\#(place.app)-headless","#
                + #""template":{"metadata":{"labels":\#(place.selector)},"#
                + #""spec":\#(Self.podSpec(app: place.app, node: nil))},"updateStrategy":{"rollingUpdate":{"#
                + #""partition":0},"type":"RollingUpdate"},"volumeClaimTemplates":[{"apiVersion":"v1","#
                + #""kind":"PersistentVolumeClaim","metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"#
                + #""resources":{"requests":{"storage":"\#(storage)Gi"}},"volumeMode":"Filesystem"},"status":{"#
                + #""phase":"Pending"}}]},"status":{"availableReplicas":\#(replicas),"collisionCount":0,"#
                + #""currentReplicas":\#(replicas),"currentRevision":"\#(revision)","observedGeneration":1,"#
                + #""readyReplicas":\#(replicas),"replicas":\#(replicas),"updateRevision":"\#(revision)","#
                + #""updatedReplicas":\#(replicas)}}"#)
    }

    mutating func addDaemonSet(_ place: Placement) {
        let nodes = 8
        addWithNotes(
            place, annotations: [("deprecated.daemonset.template.generation", "1")], generation: 1,
            tail: #","spec":{"revisionHistoryLimit":10,"selector":{"matchLabels":\#(place.selector)},"#
                + #""template":{"metadata":{"labels":\#(place.selector)},"#
                + #""spec":\#(Self.podSpec(app: place.app, node: nil))},"updateStrategy":{"rollingUpdate":{"#
                + #""maxSurge":0,"maxUnavailable":1},"type":"RollingUpdate"}},"status":{"#
                + #""currentNumberScheduled":\#(nodes),"desiredNumberScheduled":\#(nodes),"#
                + #""numberAvailable":\#(nodes),"numberMisscheduled":0,"numberReady":\#(nodes),"#
                + #""observedGeneration":1,"updatedNumberScheduled":\#(nodes)}}"#)
    }

    mutating func addJob(_ place: Placement) {
        let controller = Identifiers.uuid(using: &random)
        let duration = 20 + Int(random.next() % 600)
        let owners =
            random.next() % 2 == 0
            ? controllerReference(
                apiVersion: "batch/v1", kind: "CronJob", name: "\(place.app)-cron-\(random.next() % 3 + 1)") : nil
        let name = place.identity.name
        let labels =
            #"{"app":"\#(place.app)","batch.kubernetes.io/controller-uid":"\#(controller)","#
            + #""batch.kubernetes.io/job-name":"\#(name)","controller-uid":"\#(controller)","job-name":"\#(name)","#
            + #""tier":"\#(place.tier)"}"#
        let done = place.identity.later(duration)
        addWithNotes(
            place, generation: 1, owners: owners,
            tail: #","spec":{"backoffLimit":6,"completionMode":"NonIndexed","completions":1,"manualSelector":false,"#
                + #""parallelism":1,"podReplacementPolicy":"TerminatingOrFailed","selector":{"matchLabels":{"#
                + #""batch.kubernetes.io/controller-uid":"\#(controller)"}},"suspend":false,"template":{"#
                + #""metadata":{"labels":\#(labels)},"#
                + #""spec":\#(Self.podSpec(app: place.app, node: nil, restartPolicy: "Never"))}},"status":{"#
                + #""completionTime":"\#(done)","conditions":[{"lastProbeTime":"\#(done)","#
                + #""lastTransitionTime":"\#(done)","status":"True","type":"Complete"}],"ready":0,"#
                + #""startTime":"\#(place.identity.created)","succeeded":1,"terminating":0,"#
                + #""uncountedTerminatedPods":{}}}"#)
    }

    mutating func addCronJob(_ place: Placement) {
        let schedule = ["*/15 * * * *", "0 * * * *", "30 2 * * *", "0 4 * * 0", "5 0 1 * *"].randomElement(
            using: &random)!
        let last = 86_400 + Int(random.next() % 2_000_000)
        addWithNotes(
            place, generation: 1,
            tail: #","spec":{"concurrencyPolicy":"Forbid","failedJobsHistoryLimit":1,"jobTemplate":{"spec":{"#
                + #""backoffLimit":2,"template":{"metadata":{"labels":\#(place.selector)},"#
                + #""spec":\#(Self.podSpec(app: place.app, node: nil, restartPolicy: "OnFailure"))}}},"#
                + #""schedule":"\#(schedule)","successfulJobsHistoryLimit":3,"suspend":false,"timeZone":"Etc/UTC"},"#
                + #""status":{"lastScheduleTime":"\#(place.identity.later(last))","#
                + #""lastSuccessfulTime":"\#(place.identity.later(last + 45))"}}"#)
    }
}
