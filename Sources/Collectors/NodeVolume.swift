import Foundation

/// A hostPath or local persistent volume whose data lives on one known node, as handed to that node's agent.
public struct NodeVolume: Sendable, Equatable {
    public var persistentVolume: String
    /// The path on the node.
    public var path: String
    public var node: String
    /// "namespace/name" of the bound claim.
    public var claim: String?

    public init(persistentVolume: String, path: String, node: String, claim: String?) {
        self.persistentVolume = persistentVolume
        self.path = path
        self.node = node
        self.claim = claim
    }

    /// The one node a PersistentVolume object's required node affinity allows, if it allows exactly one.
    public static func node(ofPersistentVolume json: [UInt8]) -> String? {
        struct PV: Decodable {
            struct Spec: Decodable { var nodeAffinity: NodeAffinity? }
            var spec: Spec?
        }
        return (try? JSONDecoder().decode(PV.self, from: Data(json)))?.spec?.nodeAffinity?.onlyNode
    }
}

/// A persistent volume's `spec.nodeAffinity`, as far as it names the node holding a local or hostPath volume.
struct NodeAffinity: Decodable {
    struct Required: Decodable {
        struct Term: Decodable {
            struct Expression: Decodable {
                var key: String
                var `operator`: String
                var values: [String]?
            }
            var matchExpressions: [Expression]?
        }
        var nodeSelectorTerms: [Term]?
    }
    var required: Required?

    /// The node when the affinity allows exactly one: one term whose `kubernetes.io/hostname In` has one value.
    var onlyNode: String? {
        guard let terms = required?.nodeSelectorTerms, terms.count == 1 else { return nil }
        let hostnames = (terms[0].matchExpressions ?? []).filter {
            $0.key == "kubernetes.io/hostname" && $0.operator == "In"
        }
        guard hostnames.count == 1, let values = hostnames[0].values, values.count == 1, !values[0].isEmpty else {
            return nil
        }
        return values[0]
    }
}
