public import AMQP
import Crypto
public import Foundation
public import GovBus
public import GovBusContracts
public import GovBusCore

/// What the core's tests share, unit and integration alike (a test helper, not linked into govbus):
/// the repository's files, the sandbox keys, a signed sample message, a sample dossier.
public enum CoreFixtures {
    /// The repository: Schemas/ and config/ are read from it.
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The signer of an adapter's sandbox key (seed sha256("govbus-sandbox-<adapter>")).
    public static func sandboxSigner(_ adapter: String) throws -> MessageSigner {
        let seed = Data(SHA256.hash(data: Data("govbus-sandbox-\(adapter)".utf8)))
        return try MessageSigner(keyID: "\(adapter)-sandbox", base64Seed: seed.base64EncodedString())
    }

    /// Compiled once for all the tests: compiling the catalogue costs CPU the other tests need.
    public static let catalog = Result { try SchemaCatalog(folder: repository.appendingPathComponent("Schemas")) }

    private static let sharedChecks = Result {
        let compiled = try catalog.get()
        let routes = try RoutesFile(
            contentsOf: repository.appendingPathComponent("config/routes.yaml"), knownTypes: Set(compiled.messageTypes))
        return try IngressChecks(routes: routes, catalog: compiled, maximumBodyBytes: 64 * 1024)
    }

    /// The core's checks with the sample routes.
    public static func checks() throws -> IngressChecks {
        try sharedChecks.get()
    }

    /// Every type of the Swift catalogue.
    public static let knownTypes = Set(MessageCatalogue.all.map { $0.messageType })

    /// An example of Schemas/examples/ as `sender` would publish it, signed with `signer`'s sandbox key.
    public static func message(
        type: String = "portal.dossier.submitted.v1", example: String = "valid-1.json", sender: String = "portal",
        signWith signer: String? = "portal", edit: (inout AMQPMessage) -> Void = { _ in }
    ) throws -> AMQPMessage {
        let body = try Data(contentsOf: repository.appendingPathComponent("Schemas/examples/\(type)/\(example)"))
        var message = AMQPMessage(
            body: Array(body),
            properties: AMQPProperties(
                contentType: "application/json", deliveryMode: .persistent, correlationID: "H01.04-251121-0007",
                messageID: UUID().uuidString.lowercased(), timestamp: Date(timeIntervalSince1970: 1_763_700_000),
                type: type, userID: sender, appID: "\(sender)-adapter"))
        edit(&message)
        if let signer { message = try sandboxSigner(signer).sign(message) }
        return message
    }

    public static let now = Date(timeIntervalSince1970: 1_763_700_000)

    public static let dossier = DossierSubmittedV1(
        dossierId: "H01.04-251121-0007", procedure: Procedure(code: "2.000720", name: "Đăng ký thành lập hộ kinh doanh"),
        receivingAgency: Agency(code: "000.00.04.H01", name: "Ủy ban nhân dân phường Ba Đình"), communeCode: "00004",
        applicant: Applicant(
            personalId: "001188012345", fullName: "Nguyễn Thị Mai", dateOfBirth: CivilDate(year: 1988, month: 3, day: 14),
            phone: "0912345678", address: Address(line: "Số 12 phố Đội Cấn", communeCode: "00004", provinceCode: "01")),
        submittedAt: now, channel: .online, attachedDocuments: [], feeItems: [])

    /// config/procedures.yaml.
    public static func procedures() throws -> ProceduresFile {
        try ProceduresFile(contentsOf: repository.appendingPathComponent("config/procedures.yaml"))
    }
}
