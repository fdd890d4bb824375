import ArgumentParser
import Foundation
import GovBus
import GovBusCore

struct ProvisionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Create the vhost, the core's user and a user per adapter, through the management API.",
        discussion: """
            Adapters are those of the routes file. Each gets a user that may write on govbus.ingress \
            only, read its own inbox only, and configure nothing. Passwords come from --passwords (a \
            YAML mapping adapter: password); an adapter without one that has no user yet gets a \
            generated password, printed once. Running it again changes nothing that is already right.
            """)

    @Option(
        name: .customLong("management-url"),
        help: "http://user:password@host:15672 (default: $GOVBUS_MANAGEMENT_URL, better: it holds a password).")
    var managementURL: String?
    @Option(help: "The routes file.") var routes = "config/routes.yaml"
    @Option(help: "The vhost.") var vhost = "govbus"
    @Option(name: .customLong("core-user"), help: "The core's broker user.") var coreUser = "govbus-core"
    // Never the password itself on the command line (anyone on the machine can read it there).
    @Option(name: .customLong("core-password-file"), help: "A file holding its password (default: $GOVBUS_CORE_PASSWORD).")
    var corePasswordFile: String?
    @Option(help: "A YAML file of adapter passwords.") var passwords: String?
    @OptionGroup var schemaOptions: SchemaOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let management = managementURL ?? environment["GOVBUS_MANAGEMENT_URL"], let url = URL(string: management) else {
            throw ValidationError("no management API: pass --management-url or set GOVBUS_MANAGEMENT_URL")
        }
        guard
            let corePassword = try Secret.read(
                file: corePasswordFile, variable: "GOVBUS_CORE_PASSWORD", option: "--core-password-file", environment: environment)
        else {
            throw ValidationError("no password for the core's user: pass --core-password-file or set GOVBUS_CORE_PASSWORD")
        }
        let catalog = try schemaOptions.catalog()
        let routesFile: RoutesFile
        var given: [String: String] = [:]
        do {
            routesFile = try RoutesFile(contentsOf: URL(fileURLWithPath: routes), knownTypes: Set(catalog.messageTypes))
            if let passwords { given = try AdapterPasswords(contentsOf: URL(fileURLWithPath: passwords)).passwords }
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let provisioner = try BrokerProvisioner(managementURL: url)
        var adapters: [String: String] = [:]
        var generated: [String: String] = [:]
        for adapter in routesFile.adapters.keys.sorted() {
            if let password = given[adapter] {
                adapters[adapter] = password
            } else if try await provisioner.userExists(adapter) {
                print("\(adapter): user exists, password kept")
            } else {
                let password = (0..<24).map { _ in "abcdefghijkmnopqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789".randomElement()! }
                adapters[adapter] = String(password)
                generated[adapter] = String(password)
            }
        }
        try await provisioner.provision(vhost: vhost, coreUser: coreUser, corePassword: corePassword, adapters: adapters)
        print("vhost \(vhost): core user \(coreUser), \(routesFile.adapters.count) adapters provisioned")
        for (adapter, password) in generated.sorted(by: { $0.key < $1.key }) {
            print("\(adapter): generated password \(password) (give it to that adapter's configuration)")
        }
    }
}
