@testable import GovBusStore
import AMQP
import Crypto
import Foundation
import GovBus
import GovBusContracts
import Hummingbird
import HummingbirdTesting
import NIOFoundationCompat
import CoreTestFixtures
import Testing

@testable import GovBusConsole
@testable import GovBusCore

/// Personal data stays masked for a viewer everywhere in the console, however a value is spelled:
/// the mask on its own, then every page and API answer a viewer can reach over a real data set.
@Suite("A viewer sees no personal data, however it is spelled")
struct ViewerMaskingTests {
    static let examples = CoreFixtures.repository.appendingPathComponent("Schemas/examples")

    static func example(_ type: String, _ name: String = "valid-1") throws -> String {
        try String(contentsOf: examples.appendingPathComponent("\(type)/\(name).json"), encoding: .utf8)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    // MARK: The mask

    @Test("A personal id keeps its first 4 and last 2 digits as a string or a number; a 12-digit number is masked under any name")
    func idsAndNumbers() throws {
        let masked = try Self.object(
            PersonalDataMask.body(
                #"{"personalId": "001188012345", "applicant": {"personalId": 931188012399}, "reference": 931188012399, "amount": 50000}"#))
        #expect(masked["personalId"] as? String == "0011******45")
        #expect((masked["applicant"] as? [String: Any])?["personalId"] as? String == "9311******99")
        #expect(masked["reference"] as? String == "9311******99")
        #expect(masked["amount"] as? Int == 50000)
    }

    @Test("Names, birth dates, phones, e-mails, addresses and attached files' names are hidden at any depth; a procedure's and a fee's names stay")
    func nested() throws {
        let body = try Self.example("portal.dossier.submitted.v1")
        let masked = PersonalDataMask.body(body)
        for value in try Self.personalValues(of: body) { #expect(!masked.contains(value), "\(value)") }
        let object = try Self.object(masked)
        let applicant = try #require(object["applicant"] as? [String: Any])
        #expect(applicant["personalId"] as? String == "0011******45")
        for field in ["fullName", "dateOfBirth", "phone", "email", "address"] { #expect(applicant[field] as? String == "***", "\(field)") }
        let attached = try #require(object["attachedDocuments"] as? [[String: Any]])
        #expect(attached.allSatisfy { $0["name"] as? String == "***" })
        #expect(attached.allSatisfy { ($0["sha256"] as? String)?.count == 64 })
        #expect((object["procedure"] as? [String: Any])?["name"] as? String == "Đăng ký thành lập hộ kinh doanh")
        #expect((object["feeItems"] as? [[String: Any]])?.first?["name"] as? String == "Lệ phí đăng ký hộ kinh doanh")
        #expect(object["dossierId"] as? String == "H01.04-251121-0007")
    }

    @Test("A document's subject and its signer's name are hidden")
    func documentSubject() throws {
        let masked = try Self.object(PersonalDataMask.body(try Self.example("document.issue-requested.v1")))
        #expect(masked["subject"] as? String == "***")
        #expect((masked["signer"] as? [String: Any])?["name"] as? String == "***")
        #expect((masked["signer"] as? [String: Any])?["position"] as? String == "Phó Chủ tịch")
    }

    @Test("A string that holds a JSON body (an edited replay's before and after) is walked too")
    func jsonInsideString() throws {
        let before = try Self.example("portal.dossier.submitted.v1")
        let after = try Self.example("portal.dossier.submitted.v1", "valid-2")
        let record = try JSONSerialization.data(
            withJSONObject: ["action": "replayed after an edit", "before": before, "after": after], options: [.sortedKeys])
        let masked = PersonalDataMask.body(String(decoding: record, as: UTF8.self))
        for value in try Self.personalValues(of: before) + Self.personalValues(of: after) {
            #expect(!masked.contains(value), "\(value)")
        }
        let object = try Self.object(masked)
        let maskedBefore = try Self.object(try #require(object["before"] as? String))
        #expect((maskedBefore["applicant"] as? [String: Any])?["personalId"] as? String == "0011******45")
        #expect((maskedBefore["applicant"] as? [String: Any])?["fullName"] as? String == "***")
        #expect(object["action"] as? String == "replayed after an edit")
    }

    @Test("Free text: runs of 12 digits, phones and e-mails masked by their shape; a message id and a digest stay whole")
    func freeText() {
        let uuid = "0b5f5f0e-1111-4a4a-8b8b-222222222222"
        let digest = "ab001188012345" + String(repeating: "cd", count: 25)
        #expect(
            PersonalDataMask.text("applicant 001188012345 (0912345678, +84987654321, mai.nguyen@example.vn) in \(uuid), sha256 \(digest)")
                == "applicant 0011******45 (***, +***, ***) in \(uuid), sha256 \(digest)")
        #expect(PersonalDataMask.text("/applicant/personalId: 1234567890123 is too long") == "/applicant/personalId: 1234*******23 is too long")
        #expect(PersonalDataMask.text("payment of 50000 VND for order 2025-0042") == "payment of 50000 VND for order 2025-0042")
    }

    @Test("A reason that quotes its body's personal values loses them")
    func quotedValues() throws {
        let body = try Self.example("portal.dossier.submitted.v1")
        let values = PersonalDataMask.personalValues(ofBody: body)
        #expect(
            PersonalDataMask.text("/applicant/fullName: 'Nguyễn Thị Mai' born 1988-03-14 does not match", hiding: values)
                == "/applicant/fullName: '***' born *** does not match")
        // An address's commune and province codes are no one's: they are not searched for.
        #expect(PersonalDataMask.text("commune 00004 in province 01", hiding: values) == "commune 00004 in province 01")
        #expect(PersonalDataMask.body("not json") == "(hidden: not JSON)")
    }

    // MARK: Every page and answer a viewer reaches

    static let operatorHash = Result { try PasswordHash.make("operator-secret", rounds: 1 << 10) }
    static let viewerHash = Result { try PasswordHash.make("viewer-secret", rounds: 1 << 10) }
    static let origin = "http://127.0.0.1:8090"

    /// The people of the data set: what no viewer may read anywhere.
    static func personalValues(of body: String) throws -> [String] {
        let object = try Self.object(body)
        var values: [String] = []
        if let applicant = object["applicant"] as? [String: Any] {
            for field in ["personalId", "fullName", "dateOfBirth", "phone", "email"] {
                if let value = applicant[field] { values.append("\(value)") }
            }
            if let phone = applicant["phone"] as? String {
                values.append(phone.hasPrefix("+84") ? String(phone.dropFirst(3)) : String(phone.dropFirst()))
            }
            if let line = (applicant["address"] as? [String: Any])?["line"] as? String { values.append(line) }
        }
        for document in object["attachedDocuments"] as? [[String: Any]] ?? [] {
            if let name = document["name"] as? String { values.append(name) }
        }
        if let subject = object["subject"] as? String { values.append(subject) }
        return values
    }

    struct DataSet {
        let server: ConsoleServer
        let audit: AuditLog
        let personal: [String]
        /// The edited body an operator replays.
        let edited: String
    }

    /// A core's files with three dossiers and their traffic, a document request with a subject,
    /// an identity rejection, an edited replay's audit record; dead letters, one with a reason
    /// that quotes the body and one whose personal id came as a JSON number.
    static func dataSet() throws -> DataSet {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("viewer-masking-\(UUID().uuidString)")
        let core = folder.appendingPathComponent("core")
        try FileManager.default.createDirectory(at: core, withIntermediateDirectories: true)
        let procedures = try ProceduresFile(contentsOf: CoreFixtures.repository.appendingPathComponent("config/procedures.yaml"))
        let manager = try ProcessManager(storePath: core.appendingPathComponent("dossiers.sqlite").path, procedures: procedures)
        let audit = try AuditLog(path: core.appendingPathComponent("audit.sqlite").path)
        var personal: [String] = []
        var submissions: [String] = []
        for name in ["valid-1", "valid-2", "valid-3"] {
            let text = try example("portal.dossier.submitted.v1", name)
            submissions.append(text)
            personal += try personalValues(of: text)
            let body = Data(text.utf8)
            let dossier = try #require(try object(text)["dossierId"] as? String)
            let messageID = UUID().uuidString.lowercased()
            let handled = try manager.handle(
                type: DossierSubmittedV1.messageType, body: body, messageID: messageID, sender: "portal")
            try audit.append(
                messageID: messageID, type: DossierSubmittedV1.messageType, sender: "portal", receivers: [],
                correlationID: dossier, body: body, signature: "c2ln")
            for output in handled.outputs {
                try audit.append(
                    messageID: output.messageID, type: output.type, sender: "govbus-core", receivers: ["registry"],
                    correlationID: output.correlationID, body: output.body, signature: "")
            }
        }
        let documentRequest = try example("document.issue-requested.v1")
        personal += try personalValues(of: documentRequest)
        try audit.append(
            messageID: UUID().uuidString.lowercased(), type: "document.issue-requested.v1", sender: "govbus-core",
            receivers: ["document"], correlationID: "H01.04-251121-0007", body: Data(documentRequest.utf8), signature: "")
        try audit.append(
            messageID: UUID().uuidString.lowercased(), type: "registry.identity.rejected.v1", sender: "registry", receivers: [],
            correlationID: "G22.99-251121-0001", body: Data(try example("registry.identity.rejected.v1").utf8), signature: "c2ln")
        let heartbeat = AdapterHeartbeatV1(
            adapter: "portal", version: "9.9.9", instance: "test", startedAt: Date(), sentAt: Date(), status: .up)
        try audit.append(
            messageID: UUID().uuidString.lowercased(), type: AdapterHeartbeatV1.messageType, sender: "portal", receivers: [],
            correlationID: "portal", body: try heartbeat.jsonBody(), signature: "c2ln")

        // The third dossier's submission again, its personal id a JSON number (12 digits, also
        // under a name that is no one's).
        var numbered = try object(submissions[2])
        var applicant = try #require(numbered["applicant"] as? [String: Any])
        applicant["personalId"] = 931_188_012_399
        numbered["applicant"] = applicant
        numbered["reference"] = 931_188_012_399
        let numberedBody = try JSONSerialization.data(withJSONObject: numbered, options: [.sortedKeys])
        personal.append("931188012399")
        // An edited replay's record as the console writes it, about the third dossier.
        try audit.append(
            kind: .operatorAction, messageID: UUID().uuidString.lowercased(), type: "operator.dead-letter.edited-and-replayed",
            sender: "lan", receivers: ["govbus.core.ingress"], correlationID: "G22.99-251121-0042",
            body: try JSONSerialization.data(
                withJSONObject: [
                    "action": "replayed after an edit", "deadLetter": 7, "before": String(decoding: numberedBody, as: UTF8.self),
                    "after": submissions[2],
                ], options: [.sortedKeys]),
            signature: "")

        let configuration = try ConsoleConfiguration(
            """
            listen: 127.0.0.1:8090
            amqpUrl: amqp://govbus-core:x@127.0.0.1:1/govbus
            coreData: core
            data: console
            signingKey: {id: console-sandbox, seed: \(Data(SHA256.hash(data: Data("govbus-sandbox-console".utf8))).base64EncodedString())}
            operators:
              - {name: lan, role: operator, passwordHash: "\(try operatorHash.get())"}
              - {name: minh, role: viewer, passwordHash: "\(try viewerHash.get())"}
            """, file: "console.yaml", folder: folder)
        let server = try ConsoleServer(
            configuration: configuration, adapters: ["portal", "registry"], vhost: "govbus",
            replay: { _, _ in }, logger: .init(label: "viewer-masking-test"))
        // 1: the core's schema check refused the first submission; its reason quotes the body.
        try server.archive.store(
            properties: AMQPProperties(
                contentType: "application/json",
                headers: [
                    "govbus-error-check": .string("schema"),
                    "govbus-error-reason": .string(
                        "/applicant/fullName: 'Nguyễn Thị Mai' (001188012345, born 1988-03-14, 0912345678, mai.nguyen@example.vn) does not match"),
                    "govbus-error-where": .string("core"), "govbus-sender": .string("portal"), "govbus-signature": .string("c2ln"),
                ],
                correlationID: "H01.04-251121-0007", messageID: "0b5f5f0e-1111-4a4a-8b8b-222222222222",
                type: DossierSubmittedV1.messageType, userID: "govbus-core"),
            body: Array(submissions[0].utf8))
        // 2: the third submission with its personal id as a number.
        try server.archive.store(
            properties: AMQPProperties(
                contentType: "application/json",
                headers: [
                    "govbus-error-check": .string("schema"),
                    "govbus-error-reason": .string("/applicant/personalId: must be string, not number (931188012399)"),
                    "govbus-error-where": .string("core"), "govbus-sender": .string("portal"), "govbus-signature": .string("c2ln"),
                ],
                correlationID: "G22.99-251121-0042", messageID: "0b5f5f0e-3333-4a4a-8b8b-444444444444",
                type: DossierSubmittedV1.messageType, userID: "govbus-core"),
            body: Array(numberedBody))
        // What an operator corrects in the first: the personal id and the phone, both personal too.
        let edited = submissions[0].replacingOccurrences(of: "001188012345", with: "001188012346")
            .replacingOccurrences(of: "0912345678", with: "0912345679")
        personal += ["001188012346", "0912345679"]
        return DataSet(server: server, audit: audit, personal: personal, edited: edited)
    }

    static func login(_ client: some TestClientProtocol, _ name: String, _ password: String) async throws -> (cookie: String, csrf: String) {
        try await client.execute(
            uri: "/api/login", method: .post, headers: [.contentType: "application/json", .origin: origin],
            body: ByteBuffer(string: #"{"name":"\#(name)","password":"\#(password)"}"#)
        ) { response in
            #expect(response.status == .ok)
            let cookie = try #require(response.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            return (cookie, try #require(body["csrfToken"] as? String))
        }
    }

    /// An answer as a reader may see it: its bytes, and every string in it decoded, down through
    /// strings that hold JSON.
    static func readable(_ body: ByteBuffer) -> String {
        var texts = [String(buffer: body)]
        if let value = try? JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed]) {
            strings(in: value, into: &texts)
        }
        return texts.joined(separator: "\n")
    }

    static func strings(in value: Any, into texts: inout [String]) {
        if let object = value as? [String: Any] {
            for (key, item) in object {
                texts.append(key)
                strings(in: item, into: &texts)
            }
        } else if let array = value as? [Any] {
            for item in array { strings(in: item, into: &texts) }
        } else if let string = value as? String {
            texts.append(string)
            if let data = string.data(using: .utf8),
                let nested = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            {
                strings(in: nested, into: &texts)
            }
        } else {
            texts.append("\(value)")
        }
    }

    @Test("No page or answer a viewer can reach holds a personal value of the data set; an operator still reads them")
    func everyRoute() async throws {
        let data = try Self.dataSet()
        #expect(data.personal.contains("001188012345") && data.personal.contains("Nguyễn Thị Mai"))
        try await Application(router: data.server.router()).test(.router) { client in
            // An operator edits the first dead letter and replays it: the audit keeps before and after.
            let (operatorCookie, csrf) = try await Self.login(client, "lan", "operator-secret")
            let edit = try JSONSerialization.data(withJSONObject: ["body": data.edited])
            try await client.execute(
                uri: "/api/dead-letters/1/replay", method: .post,
                headers: [.cookie: operatorCookie, .init("X-CSRF-Token")!: csrf], body: ByteBuffer(data: edit)
            ) { #expect($0.status == .ok) }
            // The operator reads personal data as before.
            try await client.execute(uri: "/api/dossiers/H01.04-251121-0007", method: .get, headers: [.cookie: operatorCookie]) {
                response in
                let text = Self.readable(response.body)
                #expect(text.contains("001188012345"))
                #expect(text.contains("Nguyễn Thị Mai"))
            }

            let (cookie, _) = try await Self.login(client, "minh", "viewer-secret")
            var visited: [String: String] = [:]
            func get(_ path: String) async throws -> ByteBuffer {
                let response: TestResponse = try await client.execute(uri: path, method: .get, headers: [.cookie: cookie])
                // The overview asks the broker for its queues, and there is none here.
                if path != "/api/overview" { #expect(response.status == .ok, "\(path)") }
                visited[path] = Self.readable(response.body)
                return response.body
            }
            func list(_ path: String) async throws -> [[String: Any]] {
                let body = try await get(path)
                return try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [[String: Any]] ?? []
            }

            // Every GET route of the API and the pages (ConsoleServer.router, ConsoleAPI.addRoutes,
            // ConsolePages.addRoutes), following the ids the lists give to their detail routes.
            for path in ["/api/me", "/api/overview", "/api/charts", "/api/audit", "/health", "/metrics", "/console.js", "/console.css"] {
                _ = try await get(path)
            }
            var dossiers = Set<String>()
            for path in ["/api/dossiers", "/api/dossiers?q=G22", "/api/dossiers?overdue=1", "/api/dossiers?procedure=1.001193"] {
                for row in try await list(path) { if let id = row["dossierId"] as? String { dossiers.insert(id) } }
            }
            #expect(dossiers == ["H01.04-251121-0007", "G22.99-251121-0001", "G22.99-251121-0042"])
            var letters = Set<Int>()
            for status in ["waiting", "replayed", "discarded"] {
                for path in ["/api/dead-letters?status=\(status)", "/api/dead-letters?status=\(status)&check=schema"] {
                    for letter in try await list(path) {
                        if let id = letter["id"] as? Int { letters.insert(id) }
                        if let dossier = letter["correlationId"] as? String { dossiers.insert(dossier) }
                    }
                }
            }
            _ = try await list("/api/dead-letters")
            #expect(letters == [1, 2])
            for id in letters.sorted() { _ = try await get("/api/dead-letters/\(id)") }
            for id in dossiers.sorted() {
                let answer = try await get("/api/dossiers/\(id)")
                let page = try JSONSerialization.jsonObject(with: Data(buffer: answer)) as? [String: Any]
                let timeline = (page?["timeline"] as? [Any]) ?? []
                #expect(timeline.count > 0, "\(id)")
            }
            for page in ConsolePages.pages {
                if page.path.contains(":id") {
                    for id in dossiers.sorted() { _ = try await get(page.path.replacingOccurrences(of: ":id", with: id)) }
                } else {
                    _ = try await get(page.path)
                }
            }

            for (path, text) in visited.sorted(by: { $0.key < $1.key }) {
                for value in data.personal { #expect(!text.contains(value), "\(path) shows \(value)") }
            }
            // What the viewer does see: masked ids, the edited replay's record, the dead letters' reasons.
            #expect(visited["/api/dossiers"]?.contains("0011******45") == true)
            let timeline = try #require(visited["/api/dossiers/H01.04-251121-0007"])
            #expect(timeline.contains("operator.dead-letter.edited-and-replayed"))
            #expect(timeline.contains("0011******46"))  // the edited body's personal id, in `after`
            #expect(try #require(visited["/api/dossiers/G22.99-251121-0042"]).contains("9311******99"))
            #expect(try #require(visited["/api/dead-letters/1"]).contains("does not match"))
            #expect(try #require(visited["/api/dead-letters/2"]).contains("9311******99"))
        }
    }
}
