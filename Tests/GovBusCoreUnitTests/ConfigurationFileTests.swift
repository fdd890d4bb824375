import GovBusConfiguration
import Foundation
import GovBus
import GovBusContracts
import GovBusStore
import CoreTestFixtures
import Testing

@testable import GovBusCore

@Suite("Routes and procedures files")
struct ConfigurationFileTests {

    @Test("The sample files of config/ load")
    func samples() throws {
        let routes = try RoutesFile(contentsOf: CoreFixtures.repository.appendingPathComponent("config/routes.yaml"), knownTypes: CoreFixtures.knownTypes)
        #expect(Set(routes.adapters.keys).isSuperset(of: ["portal", "registry", "payment", "document"]))
        #expect(routes.allows("portal", toPublish: "portal.dossier.submitted.v1"))
        #expect(!routes.allows("portal", toPublish: "payment.fee.paid.v1"))
        #expect(routes.receivers(of: "document.issue-requested.v1", attributes: [:]) == ["document"])
        let procedures = try ProceduresFile(contentsOf: CoreFixtures.repository.appendingPathComponent("config/procedures.yaml"))
        let business = try #require(procedures.procedures["2.000720"])
        #expect(business.fee == 50000)
        #expect(business.legalDeadline == .seconds(3 * 86400))
        #expect(business.stepTimeouts[.fee] == .seconds(86400))
        #expect(procedures.procedures["1.001193"]?.fee == 0)
    }

    static let key = Data(repeating: 7, count: 32).base64EncodedString()

    @Test("A key id given to two adapters is refused, naming both and the line")
    func keyIDsAreUnique() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try RoutesFile(
                """
                adapters:
                  portal:
                    keys: {shared: \(Self.key)}
                    publishes: [portal.dossier.submitted.v1]
                  registry:
                    keys: {shared: \(Self.key)}
                    publishes: [registry.identity.verified.v1]
                """, file: "routes.yaml", knownTypes: CoreFixtures.knownTypes)
        }
        #expect(error?.description.contains("routes.yaml:6") == true, "\(String(describing: error))")
        #expect(error?.description.contains("'shared'") == true)
        #expect(error?.description.contains("'portal'") == true)
    }

    @Test("Content-based rules pick the receiver by commune, agency or procedure")
    func rules() throws {
        let routes = try RoutesFile(
            """
            adapters:
              document-hanoi:
                keys: {k1: \(Self.key)}
                receives: [document.issue-requested.v1]
              document-danang:
                keys: {k2: \(Self.key)}
                receives: [document.issue-requested.v1]
            rules:
              - type: document.issue-requested.v1
                when: {communeCode: ["00004", "00007"]}
                to: document-hanoi
              - type: document.issue-requested.v1
                when: {receivingAgency: 000.22.99.H56, procedureCode: "1.001193"}
                to: document-danang
            """, file: "routes.yaml", knownTypes: CoreFixtures.knownTypes)
        #expect(routes.receivers(of: "document.issue-requested.v1", attributes: [.communeCode: "00007"]) == ["document-hanoi"])
        #expect(
            routes.receivers(
                of: "document.issue-requested.v1",
                attributes: [.receivingAgency: "000.22.99.H56", .procedureCode: "1.001193", .communeCode: "20290"])
                == ["document-danang"])
        #expect(routes.receivers(of: "document.issue-requested.v1", attributes: [.communeCode: "99999"]).isEmpty)
    }

    /// Each broken file, with the line and the words its error must have.
    static let brokenRoutes: [(String, Int, String)] = [
        ("adapters:\n  portal:\n    keys: {k: \(key)}\n    publishes: [portal.dossier.sent.v9]\n", 4, "portal.dossier.sent.v9"),
        ("adapters:\n  portal:\n    keys: {k: not-a-key}\n", 3, "32-byte"),
        ("adapters:\n  Portal!:\n    keys: {k: \(key)}\n", 3, "adapter name"),
        ("adapters:\n  portal:\n    keys: {k: \(key)}\n    colour: blue\n", 4, "unknown key 'colour'"),
        ("adapters:\n  portal:\n    keys: {k: \(key)}\nrules:\n  - type: document.issued.v1\n    to: nobody\n", 6, "unknown adapter 'nobody'"),
        ("adapters:\n  portal:\n    keys: {k: \(key)}\n    receives: [portal.dossier.status-changed.v1]\nrules:\n  - type: document.issued.v1\n    to: portal\n", 7, "does not receive"),
        ("adapters:\n  portal: [\n", 3, "not valid YAML"),
    ]

    @Test("A broken routes file is reported with its line", arguments: 0..<brokenRoutes.count)
    func brokenRoutesFile(_ index: Int) {
        let (text, line, words) = Self.brokenRoutes[index]
        #expect {
            try RoutesFile(text, file: "routes.yaml", knownTypes: CoreFixtures.knownTypes)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.file == "routes.yaml" && error.line == line && error.message.contains(words)
                && error.description.hasPrefix("routes.yaml:\(line): ")
        }
    }

    static let brokenProcedures: [(String, Int, String)] = [
        ("procedures:\n  - code: X\n    name: Y\n    legalDeadline: soon\n    document: {type: certificate, issuingOrgan: A, subject: S, signer: {name: N, position: P}}\n", 4, "duration"),
        ("procedures:\n  - code: X\n    name: Y\n    legalDeadline: 1d\n    fee:\n      - {code: F, name: G, amount: 100}\n    document: {type: certificate, issuingOrgan: A, subject: S, signer: {name: N, position: P}}\n", 2, "no payee"),
        ("procedures:\n  - code: X\n    name: Y\n    legalDeadline: 1d\n    document: {type: diploma, issuingOrgan: A, subject: S, signer: {name: N, position: P}}\n", 5, "unknown document type"),
        ("procedures:\n  - code: X\n    name: Y\n    legalDeadline: 1d\n    timeouts: {approval: 1h}\n    document: {type: certificate, issuingOrgan: A, subject: S, signer: {name: N, position: P}}\n", 5, "unknown key 'approval'"),
    ]

    @Test("A broken procedures file is reported with its line", arguments: 0..<brokenProcedures.count)
    func brokenProceduresFile(_ index: Int) {
        let (text, line, words) = Self.brokenProcedures[index]
        #expect {
            try ProceduresFile(text, file: "procedures.yaml")
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.line == line && error.message.contains(words)
        }
    }

    static let brokenCoreFiles: [(String, Int, String)] = [
        ("amqpUrl: amqp://h\nstore: mysql://u@h/db\n", 2, "neither postgres"),
        ("amqpUrl: amqp://h\nstore: postgres://u@h\n", 2, "names no database"),
        ("amqpUrl: amqp://h\npartitions: 0\n", 2, "from 1 to 256"),
        ("amqpUrl: amqp://h\ninstance: 2/2\n", 1, "<index>/<cores>"),
        ("amqpUrl: amqp://h\nrouts: r.yaml\n", 2, "unknown key 'routs'"),
    ]

    @Test("A broken store, partitions or instance in core.yaml is reported with its line", arguments: 0..<brokenCoreFiles.count)
    func brokenCoreFile(_ index: Int) {
        let (text, line, words) = Self.brokenCoreFiles[index]
        #expect {
            try CoreConfiguration(text, file: "core.yaml", folder: URL(fileURLWithPath: "/srv/govbus"), environment: [:])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.line == line && error.message.contains(words)
        }
    }

    @Test("The store, partitions and instance from core.yaml, and GOVBUS_STORE over them")
    func storeSettings() throws {
        let text = "amqpUrl: amqp://h\nstore: postgres://core:pw@db:5433/bus\npartitions: 8\ninstance: 1/2\n"
        let folder = URL(fileURLWithPath: "/srv/govbus/config")
        let configuration = try CoreConfiguration(text, file: "core.yaml", folder: folder, environment: [:])
        #expect(configuration.store.description == "postgres://core@db:5433/bus")
        #expect(configuration.partitions == 8)
        #expect(configuration.instance == (1, 2))
        let overridden = try CoreConfiguration(text, file: "core.yaml", folder: folder, environment: ["GOVBUS_STORE": "state"])
        #expect(overridden.store == .sqlite(folder: URL(fileURLWithPath: "/srv/govbus/config/state")))
        let plain = try CoreConfiguration("amqpUrl: amqp://h\n", file: "core.yaml", folder: folder, environment: [:])
        #expect(plain.store == .sqlite(folder: plain.dataDirectory))
        #expect(plain.partitions == 1)
    }
}
