@testable import GovBusStore
import AMQP
import Crypto
import Foundation
import GovBus
import GovBusContracts
import Hummingbird
import HummingbirdTesting
import NIOFoundationCompat
import Synchronization
import CoreTestFixtures
import Testing

@testable import GovBusConsole
@testable import GovBusCore

/// The console's JSON API through Hummingbird's testing helper, over real SQLite files of a core:
/// every page's data, the actions, and the access rules.
@Suite("The console's API and its access rules")
struct ConsoleAPITests {
    final class Replays: Sendable {
        let list = Mutex<[(messageID: String, queue: String)]>([])
        let messages = Mutex<[AMQPMessage]>([])
    }

    struct Fixture {
        let server: ConsoleServer
        let replayed: Replays
        let audit: AuditLog
    }

    // Few rounds: a test's scrypt must not take the CPU the timing tests beside it need.
    static let operatorHash = Result { try PasswordHash.make("operator-secret", rounds: 1 << 10) }
    static let viewerHash = Result { try PasswordHash.make("viewer-secret", rounds: 1 << 10) }

    /// Where the test console says it is served: the `Origin` its pages' requests carry.
    static let origin = "http://console.test:8090"
    /// What the console's login page sends besides the body.
    static let loginHeaders: HTTPFields = [.contentType: "application/json", .origin: origin]

    /// `coreEndpoint`: the core's operator endpoint and its token, for dossier actions.
    static func fixture(coreEndpoint: (url: String, token: String)? = nil) throws -> Fixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
        let core = folder.appendingPathComponent("core")
        try FileManager.default.createDirectory(at: core, withIntermediateDirectories: true)
        // A core's files: one dossier, its audit records, a heartbeat.
        let procedures = try ProceduresFile(contentsOf: CoreFixtures.repository.appendingPathComponent("config/procedures.yaml"))
        let manager = try ProcessManager(storePath: core.appendingPathComponent("dossiers.sqlite").path, procedures: procedures)
        let body = try Data(
            contentsOf: CoreFixtures.repository.appendingPathComponent("Schemas/examples/portal.dossier.submitted.v1/valid-1.json"))
        let handled = try manager.handle(type: DossierSubmittedV1.messageType, body: body, messageID: UUID().uuidString.lowercased(), sender: "portal")
        let audit = try AuditLog(path: core.appendingPathComponent("audit.sqlite").path)
        try audit.append(
            messageID: UUID().uuidString.lowercased(), type: DossierSubmittedV1.messageType, sender: "portal", receivers: [],
            correlationID: "H01.04-251121-0007", body: body, signature: "c2ln")
        for output in handled.outputs {
            try audit.append(
                messageID: output.messageID, type: output.type, sender: "govbus-core", receivers: ["registry"],
                correlationID: output.correlationID, body: output.body, signature: "")
        }
        let heartbeat = AdapterHeartbeatV1(
            adapter: "portal", version: "9.9.9", instance: "test", startedAt: Date(), sentAt: Date(), status: .up)
        try audit.append(
            messageID: UUID().uuidString.lowercased(), type: AdapterHeartbeatV1.messageType, sender: "portal", receivers: [],
            correlationID: "portal", body: try heartbeat.jsonBody(), signature: "c2ln")

        let configuration = try ConsoleConfiguration(
            """
            listen: 127.0.0.1:0
            publicUrl: \(origin)
            amqpUrl: amqp://govbus-core:x@127.0.0.1:1/govbus
            coreData: core
            data: console
            signingKey: {id: console-sandbox, seed: \(Data(SHA256.hash(data: Data("govbus-sandbox-console".utf8))).base64EncodedString())}
            operators:
              - {name: lan, role: operator, passwordHash: "\(try operatorHash.get())"}
              - {name: minh, role: viewer, passwordHash: "\(try viewerHash.get())"}
            """ + (coreEndpoint.map { "\ncore: {url: \"\($0.url)\", operatorToken: \($0.token)}" } ?? ""), file: "console.yaml", folder: folder)
        let replayed = Replays()
        let server = try ConsoleServer(
            configuration: configuration, adapters: ["portal", "registry"], vhost: "govbus",
            replay: { message, queue in
                replayed.list.withLock { $0.append((message.properties.messageID ?? "", queue)) }
                replayed.messages.withLock { $0.append(message) }
            },
            logger: .init(label: "console-test"))
        // A dead letter the core's schema check refused.
        try server.archive.store(
            properties: AMQPProperties(
                contentType: "application/json",
                headers: [
                    "govbus-error-check": .string("schema"), "govbus-error-reason": .string("/applicant/personalId: too short"),
                    "govbus-error-where": .string("core"), "govbus-sender": .string("portal"), "govbus-signature": .string("c2ln"),
                ],
                correlationID: "H01.04-251121-0007", messageID: "0b5f5f0e-1111-4a4a-8b8b-222222222222",
                type: DossierSubmittedV1.messageType, userID: "govbus-core"),
            body: Array(body))
        return Fixture(server: server, replayed: replayed, audit: audit)
    }

    static func login(_ client: some TestClientProtocol, _ name: String, _ password: String) async throws -> (cookie: String, csrf: String) {
        try await client.execute(
            uri: "/api/login", method: .post, headers: loginHeaders,
            body: ByteBuffer(string: #"{"name":"\#(name)","password":"\#(password)"}"#)
        ) { response in
            #expect(response.status == .ok)
            let cookie = try #require(response.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String])
            return (cookie, try #require(body["csrfToken"]))
        }
    }

    @Test("Nothing but /health, /metrics and the login answers without a session; a wrong password says so")
    func loginRequired() async throws {
        let fixture = try Self.fixture()
        try await Application(router: fixture.server.router()).test(.router) { client in
            for path in ["/api/overview", "/api/dossiers", "/api/dead-letters", "/api/audit", "/api/dossiers/H01.04-251121-0007"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .unauthorized, "\(path)") }
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/login")
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/login", method: .get) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/api/login", method: .post, headers: Self.loginHeaders, body: ByteBuffer(string: #"{"name":"lan","password":"wrong"}"#)
            ) { #expect($0.status == .unauthorized) }
        }
    }

    @Test("An operator sees every page's data with personal data; a replay goes to the core's queue and is audited")
    func operatorPages() async throws {
        let fixture = try Self.fixture()
        try await Application(router: fixture.server.router()).test(.router) { client in
            let (cookie, csrf) = try await Self.login(client, "lan", "operator-secret")
            try await client.execute(uri: "/api/dossiers", method: .get, headers: [.cookie: cookie]) { response in
                let rows = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]])
                #expect(rows.count == 1)
                #expect(rows.first?["applicantPersonalId"] as? String == "001188012345")
                #expect(rows.first?["state"] as? String == "awaiting-identity")
            }
            try await client.execute(uri: "/api/dossiers/H01.04-251121-0007", method: .get, headers: [.cookie: cookie]) { response in
                let page = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let timeline = try #require(page["timeline"] as? [[String: Any]])
                #expect(timeline.map { $0["type"] as? String } .contains("registry.identity.verification-requested.v1"))
                #expect(timeline.first?["sender"] as? String == "portal")
            }
            try await client.execute(uri: "/api/audit", method: .get, headers: [.cookie: cookie]) { response in
                let status = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(status["intact"] as? Bool == true)
            }
            // No CSRF token: refused.
            try await client.execute(uri: "/api/dead-letters/1/replay", method: .post, headers: [.cookie: cookie]) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(
                uri: "/api/dead-letters/1/replay", method: .post, headers: [.cookie: cookie, .init("X-CSRF-Token")!: csrf]
            ) { #expect($0.status == .ok) }
            #expect(fixture.replayed.list.withLock { $0.map(\.queue) } == ["govbus.core.ingress"])
            try await client.execute(uri: "/api/dead-letters", method: .get, headers: [.cookie: cookie]) { response in
                #expect(String(buffer: response.body) == "[]")
            }
        }
        let actions = try fixture.audit.records(correlationID: "H01.04-251121-0007").filter { $0.kind == .operatorAction }
        #expect(actions.map(\.type) == ["operator.dead-letter.replayed"])
        #expect(actions.first?.sender == "lan")
        #expect(try fixture.audit.verify().firstBroken == nil)
    }

    @Test("A viewer sees personal ids masked (0011******45) and no names, and may not replay: 403")
    func viewerRules() async throws {
        let fixture = try Self.fixture()
        try await Application(router: fixture.server.router()).test(.router) { client in
            let (cookie, csrf) = try await Self.login(client, "minh", "viewer-secret")
            try await client.execute(uri: "/api/dossiers", method: .get, headers: [.cookie: cookie]) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("0011******45"))
                #expect(!text.contains("001188012345"))
            }
            try await client.execute(uri: "/api/dead-letters/1", method: .get, headers: [.cookie: cookie]) { response in
                let text = String(buffer: response.body)
                #expect(!text.contains("001188012345"), "\(text)")
                #expect(text.contains("\\\"***\\\"") || text.contains("***"))
            }
            try await client.execute(
                uri: "/api/dead-letters/1/replay", method: .post, headers: [.cookie: cookie, .init("X-CSRF-Token")!: csrf]
            ) { #expect($0.status == .forbidden) }
            #expect(fixture.replayed.list.withLock { $0.isEmpty })
        }
    }

    @Test("An operator's edited replay is signed by the console, passes the core's checks, and the audit keeps before and after")
    func editedReplay() async throws {
        let fixture = try Self.fixture()
        // The same dossier with its personal id corrected (an edit into another dossier is refused:
        // the body's dossierId must stay the letter's correlation_id).
        let edited = try String(
            contentsOf: CoreFixtures.repository.appendingPathComponent("Schemas/examples/portal.dossier.submitted.v1/valid-1.json"),
            encoding: .utf8
        ).replacingOccurrences(of: "001188012345", with: "001188012346")
        try await Application(router: fixture.server.router()).test(.router) { client in
            let (cookie, csrf) = try await Self.login(client, "lan", "operator-secret")
            try await client.execute(
                uri: "/api/dead-letters/1/replay", method: .post, headers: [.cookie: cookie, .init("X-CSRF-Token")!: csrf],
                body: ByteBuffer(string: "{\"body\": \"not json\"}")
            ) { #expect($0.status == .badRequest) }
            let request = try JSONSerialization.data(withJSONObject: ["body": edited])
            try await client.execute(
                uri: "/api/dead-letters/1/replay", method: .post, headers: [.cookie: cookie, .init("X-CSRF-Token")!: csrf],
                body: ByteBuffer(data: request)
            ) { #expect($0.status == .ok) }
        }
        let replayed = try #require(fixture.replayed.messages.withLock { $0.first })
        #expect(String(decoding: replayed.body, as: UTF8.self) == edited)
        #expect(replayed.properties.headers?[BusHeader.editedBy] == .string("lan"))
        // The core takes it: the routes file lists the console's key among the operators'.
        let catalog = try CoreFixtures.catalog.get()
        let routes = try RoutesFile(
            contentsOf: CoreFixtures.repository.appendingPathComponent("config/routes.yaml"), knownTypes: Set(catalog.messageTypes))
        let accepted = try IngressChecks(routes: routes, catalog: catalog, coreUser: "govbus-core").check(replayed)
        #expect(accepted.sender == "portal")
        let action = try #require(
            try fixture.audit.records(correlationID: "H01.04-251121-0007").first { $0.kind == .operatorAction })
        let actionBody = try #require(action.body)
        let record = try #require(try JSONSerialization.jsonObject(with: actionBody) as? [String: Any])
        #expect(record["after"] as? String == edited)
        #expect((record["before"] as? String)?.contains("001188012345") == true)
        #expect(action.type == "operator.dead-letter.edited-and-replayed")
    }
}

@Suite("Which queues are growing")
struct DepthTrendTests {
    @Test("A depth that rises at every look for a minute is growing; a steady or a falling one is not")
    func growing() {
        let trend = DepthTrend()
        let start = Date()
        var alerts: [String] = []
        for look in 0..<6 {
            alerts = trend.growing(
                [
                    QueueFigures.Queue(name: "rising", messages: 100 + 30 * look, unacked: nil, consumers: 1),
                    QueueFigures.Queue(name: "steady", messages: 500, unacked: nil, consumers: 1),
                    QueueFigures.Queue(name: "falling", messages: 500 - 30 * look, unacked: nil, consumers: 1),
                ], now: start.addingTimeInterval(Double(look) * 20))
        }
        #expect(alerts == ["rising"])
    }
}
