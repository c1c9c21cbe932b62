import ArgumentParser
import Foundation
import SystemIO

struct UninstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove what install made: the namespace (and everything in it), the ClusterRoleBinding, the CRDs.",
        discussion: """
            As Velero's uninstall: the namespace is deleted first and waited for, then the ClusterRoleBinding \
            ('velero', or 'velero-<namespace>'), then the velero.io CustomResourceDefinitions labelled \
            component=velero (with every Backup, Restore and Schedule object in the cluster). The backups' data in \
            their stores is left alone. Asks for confirmation unless --force.
            """)

    @Option(name: .shortAndLong, help: "The namespace velero-cas was installed in.") var namespace = "velero"
    @Flag(help: "Uninstall without asking.") var force = false
    @Flag(help: "Accepted for Velero's sake (uninstall always waits for the namespace to go).") var wait = false
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws { try InstallValidation.namespace(namespace, flag: "--namespace") }

    func run() async throws {
        try global.bootstrapLogging()
        if !force {
            print(
                "You are about to uninstall velero-cas from namespace '\(namespace)': its CRDs and every Velero object "
                    + "go too. Are you sure you want to continue (Y/N)? ", terminator: "")
            // Reading the terminal blocks: on the blocking pool, not the cooperative one.
            let answer = try await BlockingPool.shared.run { readLine() }?.trimmingCharacters(in: .whitespaces)
                .lowercased()
            guard answer == "y" || answer == "yes" else {
                print("Aborting uninstall (nothing was deleted; --force skips this question).")
                throw ExitCode(1)
            }
        }
        try await InstallApplier(client: try await cluster.client()).uninstall(namespace: namespace)
        print("velero-cas is uninstalled from namespace '\(namespace)'.")
    }
}
