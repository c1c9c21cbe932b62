import Foundation
import KubeClient
import Testing
import VeleroAPI

@Suite("The server's presence Lease and the CLI's selector objects")
struct ServerPresenceTests {
    @Test("a Lease is fresh for leaseDurationSeconds after its renewTime (a MicroTime), stale after")
    func freshness() throws {
        let renewed = Date(timeIntervalSince1970: 1_700_000_000.123456)
        let json = try ServerPresence.lease(namespace: "velero", holder: "host-1", now: renewed)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(#""renewTime":"2023-11-14T22:13:20.123456Z""#), "\(text)")
        #expect(text.contains(#""leaseDurationSeconds":30"#) && text.contains(#""holderIdentity":"host-1""#))
        #expect(ServerPresence.isFresh(json, now: renewed.addingTimeInterval(29)))
        #expect(!ServerPresence.isFresh(json, now: renewed.addingTimeInterval(31)))
        #expect(ServerPresence.holder(of: json) == "host-1")
        // A Lease another tool wrote without renewTime, or not a Lease at all, says no server.
        #expect(!ServerPresence.isFresh(Array(#"{"spec":{"holderIdentity":"x"}}"#.utf8), now: renewed))
        #expect(!ServerPresence.isFresh(Array("not json".utf8), now: renewed))
    }

    @Test("a typed selector becomes matchLabels and matchExpressions, and reads back the same")
    func selectorObjects() throws {
        let spec = LabelSelectorSpec(try LabelSelector(parsing: "app=web,tier!=db,env in (prod,dev),!legacy,team"))
        #expect(spec.matchLabels == ["app": "web"])
        #expect(
            spec.matchExpressions == [
                .init(key: "tier", operator: "NotIn", values: ["db"]),
                .init(key: "env", operator: "In", values: ["prod", "dev"]),
                .init(key: "legacy", operator: "DoesNotExist"), .init(key: "team", operator: "Exists"),
            ])
        let back = try LabelSelector(parsing: try spec.selectorString())
        for labels in [
            ["app": "web", "env": "prod", "team": "a"], ["app": "web", "env": "prod", "team": "a", "tier": "db"],
            ["app": "web", "env": "test", "team": "a"], ["app": "web", "env": "dev", "team": "a", "legacy": "1"],
        ] {
            #expect(
                back.matches(labels)
                    == (try LabelSelector(parsing: "app=web,tier!=db,env in (prod,dev),!legacy,team")).matches(labels))
        }
        #expect(back.matches(["app": "web", "env": "dev", "team": "a"]))
    }
}
