/// Access and traffic: roles, role bindings, ingresses, network policies, pod disruption budgets.
extension SyntheticWriter {
    /// Role rules to pick from (keys sorted: apiGroups, resourceNames, resources, verbs).
    static let roleRules = [
        #"{"apiGroups":[""],"resources":["configmaps","secrets"],"verbs":["get","list","watch"]}"#,
        #"{"apiGroups":[""],"resources":["pods","pods/log"],"verbs":["get","list"]}"#,
        #"{"apiGroups":["apps"],"resources":["deployments","statefulsets"],"verbs":["get","list","patch","update","watch"]}"#,
        #"{"apiGroups":["batch"],"resources":["cronjobs","jobs"],"verbs":["create","delete","get","list"]}"#,
        #"{"apiGroups":[""],"resourceNames":["leader-election"],"resources":["configmaps"],"verbs":["get","update"]}"#,
        #"{"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["create","get","update"]}"#,
        #"{"apiGroups":["example.com"],"resources":["gizmos","widgets"],"verbs":["get","list","watch"]}"#,
    ]

    mutating func addRole(_ place: Placement) {
        let mask = Int(random.next() % UInt64((1 << Self.roleRules.count) - 1)) + 1
        let rules = Self.roleRules.indices.filter { mask & (1 << $0) != 0 }.map { Self.roleRules[$0] }
        addWithNotes(place, tail: #","rules":[\#(rules.joined(separator: ","))]}"#)
    }

    mutating func addRoleBinding(_ place: Placement) {
        let role = "\(place.app)-role-\(random.next() % 3 + 1)"
        let account = "\(place.app)-sa-\(random.next() % 3 + 1)"
        addWithNotes(
            place,
            tail: #","roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"\#(role)"},"#
                + #""subjects":[{"kind":"ServiceAccount","name":"\#(account)","#
                + #""namespace":"\#(place.identity.namespace)"},{"apiGroup":"rbac.authorization.k8s.io","#
                + #""kind":"Group","name":"team:\#(place.app)"}]}"#)
    }

    mutating func addIngress(_ place: Placement) {
        let host = "\(place.app).\(place.identity.namespace).apps.example.com"
        let service = "\(place.app)-svc-\(random.next() % 3 + 1)"
        let address = "203.0.113.\(random.next() % 250 + 2)"
        addWithNotes(
            place, annotations: [("nginx.ingress.kubernetes.io/proxy-body-size", "16m")], generation: 1,
            tail: #","spec":{"ingressClassName":"nginx","rules":[{"host":"\#(host)","http":{"paths":[{"#
                + #""backend":{"service":{"name":"\#(service)","port":{"number":80}}},"path":"/","#
                + #""pathType":"Prefix"}]}}],"tls":[{"hosts":["\#(host)"],"secretName":"\#(place.app)-tls"}]},"#
                + #""status":{"loadBalancer":{"ingress":[{"ip":"\#(address)"}]}}}"#)
    }

    mutating func addNetworkPolicy(_ place: Placement) {
        let peer = SyntheticCluster.apps.randomElement(using: &random)!
        addWithNotes(
            place, generation: 1,
            tail: #","spec":{"egress":[{"ports":[{"port":53,"protocol":"UDP"},{"port":53,"protocol":"TCP"}],"#
                + #""to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}}}]}],"#
                + #""ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"\#(peer)"}}},{"namespaceSelector":{"#
                + #""matchLabels":{"kubernetes.io/metadata.name":"ingress-nginx"}}}],"ports":[{"port":8080,"#
                + #""protocol":"TCP"}]}],"podSelector":{"matchLabels":\#(place.selector)},"#
                + #""policyTypes":["Ingress","Egress"]}}"#)
    }

    mutating func addDisruptionBudget(_ place: Placement) {
        let pods = Int(random.next() % 5) + 2
        let budget = random.next() % 2 == 0 ? #""maxUnavailable":1"# : #""minAvailable":1"#
        addWithNotes(
            place, generation: 1,
            tail: #","spec":{\#(budget),"selector":{"matchLabels":\#(place.selector)}},"status":{"conditions":[{"#
                + #""lastTransitionTime":"\#(place.identity.later(30))","message":"","observedGeneration":1,"#
                + #""reason":"SufficientPods","status":"True","type":"DisruptionAllowed"}],"#
                + #""currentHealthy":\#(pods),"desiredHealthy":\#(pods - 1),"disruptionsAllowed":1,"#
                + #""expectedPods":\#(pods),"observedGeneration":1}}"#)
    }
}
