extension VeleroCRDs {
    public static let downloadRequest = definition(
        kind: "DownloadRequest", plural: "downloadrequests",
        description: "A request for a file of a backup or restore (log, contents, results…) through a temporary URL.",
        spec: .object(
            "What to download.",
            [
                "target": .object(
                    "The file: its kind and the backup's or restore's name.",
                    [
                        "kind": .string(
                            "The kind of file.", enum: DownloadRequest.TargetKind.all.map(\.rawValue)),
                        "name": .string("The Backup's or Restore's name."),
                    ], required: ["kind", "name"])
            ], required: ["target"]),
        status: .object(
            "The server's answer.",
            [
                "phase": .string("The request's phase.", enum: ["New", "Processed"]),
                "downloadURL": .string("A URL serving the file until the expiration."),
                "expiration": .time("When the URL stops working and the request is deleted."),
                "message": .string("Why there is no URL (velero-cas)."),
            ]),
        columns: [
            column("Kind", "string", ".spec.target.kind"),
            column("Name", "string", ".spec.target.name"),
            column("Phase", "string", ".status.phase"),
        ])

    public static let serverStatusRequest = definition(
        kind: "ServerStatusRequest", plural: "serverstatusrequests", shortNames: ["ssr"],
        description: "A request for the server's version and plugins.",
        spec: Schema.object("Nothing to set.", [:]),
        status: .object(
            "The server's answer.",
            [
                "phase": .string("The request's phase.", enum: ["New", "Processed"]),
                "processedTimestamp": .time("When the server answered."),
                "serverVersion": .string("The server's version."),
                "plugins": Schema(
                    type: "array", description: "The plugins the server runs.",
                    items: .object(nil, ["name": .string(), "kind": .string()], required: ["name", "kind"]),
                    nullable: true),
            ]),
        columns: [column("Phase", "string", ".status.phase")])
}
