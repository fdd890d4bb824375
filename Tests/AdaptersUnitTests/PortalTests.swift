import PortalAPI
import Foundation
import GovBusAdapterKit
import GovBusContracts
import GovBusSandboxKit
import Hummingbird
import HummingbirdTesting
import NIOFoundationCompat
import Testing

@testable import PortalAdapter
@testable import PortalSandbox

@Suite("Portal adapter and sandbox, without a broker")
struct PortalTests {
    static func sampleDossier() throws -> Data {
        let samples = SampleDossiers(population: Population(size: 100))
        return try #require(
            samples.make(.init(count: 1, paidShare: 1, mismatchShare: 0, seed: 7), batch: "T1", now: Date()).first
        ).body
    }

    @Test("A portal dossier becomes portal.dossier.submitted.v1: Hanoi time, dates, fees, attachments")
    func conversion() throws {
        let dossier = try JSONDecoder().decode(PortalDossier.self, from: try Self.sampleDossier())
        var edited = dossier
        edited.NgayTiepNhan = "20251121092105"
        let submitted = try edited.submitted()
        #expect(submitted.dossierId == "G01.DEMO-T1-000001")
        #expect(submitted.procedure.code == "2.000720")
        #expect(ContractCoding.formatTimestamp(submitted.submittedAt).hasPrefix("2025-11-21T02:21:05"))
        #expect(submitted.feeItems.map(\.amount) == [50000])
        #expect(submitted.attachedDocuments.first?.sha256.count == 64)
        #expect(submitted.applicant.personalId.count == 12)

        edited.NgayTiepNhan = "21/11/2025"
        #expect(throws: PortalDossier.Invalid.self) { try edited.submitted() }
    }

    @Test("HMAC: the portal's signature verifies, a changed body or a wrong secret does not")
    func signatures() {
        let body = Data(#"{"MaHoSo":"X"}"#.utf8)
        let signature = PortalSignature.sign(body, secret: "s3cret")
        #expect(signature.hasPrefix("sha256="))
        #expect(PortalSignature.isValid(signature, for: body, secret: "s3cret"))
        #expect(!PortalSignature.isValid(signature, for: Data(#"{"MaHoSo":"Y"}"#.utf8), secret: "s3cret"))
        #expect(!PortalSignature.isValid(signature, for: body, secret: "other"))
        #expect(!PortalSignature.isValid(nil, for: body, secret: "s3cret"))
        // HMAC-SHA256 itself (Python's hmac module gives the same), upper-case hex accepted too.
        #expect(signature == "sha256=10168dbae4c29044a10dc294877736e9bd9ce18329383ec4742c0571f6cbdc02")
        #expect(PortalSignature.isValid(signature.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="), for: body, secret: "s3cret"))
        #expect(!PortalSignature.isValid("sha256=zz", for: body, secret: "s3cret"))
    }

    @Test("Status changes map to the portal's codes and words, with the payment link")
    func progress() throws {
        let change = DossierStatusChangedV1(
            dossierId: "G01.DEMO-T1-000001", status: .feeRequested, at: Date(timeIntervalSince1970: 1_763_691_665),
            paymentLink: URL(string: "http://pay.example/x"))
        let update = PortalProgress(change, handler: "GovBus")
        #expect(update.TrangThai == "3")
        #expect(update.TrangThaiGovBus == "fee-requested")
        #expect(update.DuongDanThanhToan == "http://pay.example/x")
        #expect(update.ThoiDiemXuLy == "20251121092105")
        let rejected = PortalProgress(
            DossierStatusChangedV1(
                dossierId: "X1.000", status: .rejected, reason: Reason(code: "identity-mismatch", message: "họ tên không khớp"),
                at: Date()),
            handler: "GovBus")
        #expect(rejected.TrangThai == "6")
        #expect(rejected.NoiDungXuLy.contains("họ tên không khớp"))
    }

    @Test("The sandbox keeps each dossier's history; an unsigned update gets 401, a malformed one 400")
    func sandboxHistory() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portal-sandbox-\(UUID().uuidString)")
        let options = PortalSandbox.Options(dataDirectory: folder, adapterURL: "http://127.0.0.1:1/none", hmacSecret: "s3cret")
        let app = try await PortalSandbox.application(options: options, faults: SandboxFaults(), logger: .init(label: "test"))
        try await app.test(.router) { client in
            for status in [DossierStatusChangedV1.Status.submitted, .identityVerified, .completed] {
                let body = try JSONEncoder().encode(
                    PortalProgress(DossierStatusChangedV1(dossierId: "G01.T-1", status: status, at: Date()), handler: "GovBus"))
                try await client.execute(
                    uri: "/api/progress", method: .post,
                    headers: [.init("X-Portal-Signature")!: PortalSignature.sign(body, secret: "s3cret")],
                    body: ByteBuffer(data: body)
                ) { response in #expect(response.status == .ok) }
            }
            let body = Data(#"{"MaHoSo":"G01.T-1"}"#.utf8)
            try await client.execute(uri: "/api/progress", method: .post, body: ByteBuffer(data: body)) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(
                uri: "/api/progress", method: .post,
                headers: [.init("X-Portal-Signature")!: PortalSignature.sign(body, secret: "s3cret")], body: ByteBuffer(data: body)
            ) { response in #expect(response.status == .badRequest) }
            try await client.execute(uri: "/api/dossiers/G01.T-1/history", method: .get) { response in
                let history = try JSONDecoder().decode([ProgressStore.Update].self, from: Data(buffer: response.body))
                #expect(history.map(\.TrangThaiGovBus) == ["submitted", "identity-verified", "completed"])
                #expect(history.map(\.TrangThai) == ["1", "2", "5"])
            }
        }
    }
}

@Suite("Portal adapter's HTTP side: bad input gets a clear answer and stores nothing")
struct PortalAdapterInputTests {
    static func connector() throws -> (PortalConnector, AdapterRuntime) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portal-adapter-\(UUID().uuidString)")
        let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schemas")
        let configuration = try AdapterConfiguration(
            """
            name: portal
            amqpUrl: amqp://portal:secret@127.0.0.1:5672/govbus
            signingKey: {id: portal-test, seed: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}
            listen: 127.0.0.1:8081
            system: http://127.0.0.1:9081
            data: \(folder.path)
            schemas: \(schemas.path)
            settings: {hmacSecret: s3cret}
            """, file: "portal.yaml", folder: folder)
        let runtime = try AdapterRuntime(configuration: configuration, logger: .init(label: "test"))
        return (try PortalConnector(runtime: runtime), runtime)
    }

    @Test("Wrong HMAC: 401; malformed JSON: 400 naming the field; a body its schema refuses: 400; nothing stored")
    func refusals() async throws {
        let (connector, runtime) = try Self.connector()
        let good = try PortalTests.sampleDossier()
        #expect(try await connector.receive(good, signature: PortalSignature.sign(good, secret: "wrong")).status == .unauthorized)
        #expect(try await connector.receive(good, signature: nil).status == .unauthorized)

        let malformed = Data(#"{"MaHoSo": "G01.X-1"}"#.utf8)
        let missingFields = try await connector.receive(malformed, signature: PortalSignature.sign(malformed, secret: "s3cret"))
        #expect(missingFields.status == .badRequest)

        var object = try #require(try JSONSerialization.jsonObject(with: good) as? [String: Any])
        object["SoGiayTo"] = "00118501234"
        let shortID = try JSONSerialization.data(withJSONObject: object)
        let refused = try await connector.receive(shortID, signature: PortalSignature.sign(shortID, secret: "s3cret"))
        #expect(refused.status == .badRequest)
        #expect(try runtime.outbox.count == 0)
    }

    @Test("A good dossier is stored before the answer, once, even when the portal pushes it twice")
    func storedOnce() async throws {
        let (connector, runtime) = try Self.connector()
        let good = try PortalTests.sampleDossier()
        let signature = PortalSignature.sign(good, secret: "s3cret")
        #expect(try await connector.receive(good, signature: signature).status == .ok)
        #expect(try await connector.receive(good, signature: signature).status == .ok)
        let stored = try runtime.outbox.pending()
        #expect(stored.map(\.type) == [DossierSubmittedV1.messageType])
        #expect(stored.first?.correlationID == "G01.DEMO-T1-000001")
    }
}
