import ArgumentParser
import Crypto
import Foundation
import GovBus
import GovBusConfiguration
import GovBusScaffold

struct NewConnectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-connector",
        abstract: "Write a connector for a new agency: adapter, sandbox, message, schema, routes, tests.",
        discussion: """
            Run from the repository. Writes Adapters/<Name>/Adapter and Adapters/<Name>/Sandbox, the \
            message <name>.dossier.recorded.v1 (schema, examples, Swift contract, AsyncAPI), the adapter's \
            place in config/routes.yaml with its sandbox key and a new key for going live (its seed in \
            var/keys/, readable by you alone), and Tests/AdaptersUnitTests/<Name>ConnectorTests.swift. The adapter \
            takes a copy of every dossier submitted on the portal, sends it to the agency's system, and \
            publishes the receipt. Then: swift build, swift test --filter <Name>ConnectorTests, govbus up. \
            Adapters/README.md walks through the rest.
            """)

    @Argument(help: "The connector's name: 2 to 20 lower-case letters, such as tax.") var name: String

    func folder(of scaffold: ConnectorScaffold, in repository: URL) -> URL {
        repository.appendingPathComponent("Adapters/\(scaffold.typeName)")
    }

    func run() throws {
        let repository = try UpCommand.repository()
        let scaffold: ConnectorScaffold
        do {
            scaffold = try ConnectorScaffold(name: name)
        } catch {
            throw ValidationError("\(error)")
        }
        let files = scaffold.files()
        // Nothing is overwritten: every file the connector would add must be new.
        for path in ["Adapters/\(scaffold.typeName)"] + files.map(\.path)
        where FileManager.default.fileExists(atPath: repository.appendingPathComponent(path).path) {
            throw ValidationError("nothing written: \(path) exists already (a connector '\(name)' is there)")
        }

        // A key for going live, beside the sandbox's: its seed stays on this machine.
        let key = Curve25519.Signing.PrivateKey()
        let keyID = "\(name)-\(Calendar(identifier: .gregorian).component(.year, from: Date()))"
        let seedFile = repository.appendingPathComponent("var/keys/\(keyID).seed")
        let sandboxKey = PublicSandboxKeys.publicKey(of: name).base64EncodedString()

        // Every edit is made in memory first: a file that has lost its anchor changes nothing.
        var edits: [(path: String, text: String)] = []
        func edit(_ path: String, _ change: (String) throws -> String) throws {
            edits.append((path, try change(try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8))))
        }
        do {
            try edit("Package.swift", scaffold.addingToPackage)
            try edit("Sources/GovBusContracts/GovBusMessage.swift", scaffold.addingToCatalogue)
            try edit("Sources/govbus/AgencyConnectors.swift", scaffold.addingToConnectorList)
            try edit("config/routes.yaml") {
                try scaffold.addingToRoutes($0, sandboxKey: sandboxKey, newKeyID: keyID, newKey: key.publicKey.rawRepresentation.base64EncodedString())
            }
            try edit("Schemas/schemas.lock") {
                try scaffold.addingToLock($0, schemaDigest: SHA256.hash(data: Data(scaffold.schemaFile.contents.utf8)).lowercaseHex)
            }
            try edit("Schemas/asyncapi.yaml", scaffold.addingToAsyncAPI)
        } catch let missing as ConnectorScaffold.MissingAnchor {
            throw ValidationError("nothing written: \(missing)")
        }

        // Written all or nothing: on a failure, what was written is removed and the edited files put back.
        var written: [URL] = []
        var originals: [(URL, String)] = []
        do {
            for file in files {
                let url = repository.appendingPathComponent(file.path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try file.contents.write(to: url, atomically: true, encoding: .utf8)
                written.append(url)
            }
            for (path, text) in edits {
                let url = repository.appendingPathComponent(path)
                originals.append((url, try String(contentsOf: url, encoding: .utf8)))
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            try SecretFile.makeDirectory(at: seedFile.deletingLastPathComponent())
            try SecretFile.create(Data(key.rawRepresentation.base64EncodedString().utf8), at: seedFile)
        } catch {
            for url in written { try? FileManager.default.removeItem(at: url) }
            try? FileManager.default.removeItem(at: folder(of: scaffold, in: repository))
            try? FileManager.default.removeItem(at: repository.appendingPathComponent("Schemas/examples/\(scaffold.messageType)"))
            for (url, text) in originals { try? text.write(to: url, atomically: true, encoding: .utf8) }
            throw ValidationError("nothing written: \(error)")
        }
        for file in files { print("wrote   \(file.path)") }
        for (path, _) in edits { print("edited  \(path)") }
        print(
            """
            key     \(keyID): its seed in \(seedFile.path) (0600); its public key in config/routes.yaml

            Next:
              swift build                                         # Package.swift declares \(scaffold.typeName)Adapter and \(scaffold.typeName)Sandbox
              swift test --filter \(scaffold.typeName)ConnectorTests
              .build/debug/govbus up --fresh                      # starts \(name) and its sandbox beside the others
            """)
    }
}
