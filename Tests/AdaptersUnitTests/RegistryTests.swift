import XRoad
import GovBusConfiguration
import Foundation
import GovBus
import GovBusAdapterKit
import GovBusContracts
import GovBusCore
import GovBusSandboxKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import Testing

@testable import RegistryAdapter
@testable import RegistrySandbox

/// The registry connector: its SOAP codec and identity check without any network, and its
/// sandbox over HTTP (HummingbirdTesting), read back with the adapter's own codec.
@Suite("Registry adapter and sandbox")
struct RegistryTests {
    static let peers = XRoadPeers(
        client: XRoadClientIdentifier(
            xRoadInstance: "VN", memberClass: "GOV", memberCode: "000.00.00.H01", subsystemCode: "GOVBUS"),
        service: XRoadServiceIdentifier(
            xRoadInstance: "VN", memberClass: "GOV", memberCode: "000.00.00.B05", subsystemCode: "POPULATION",
            serviceCode: "LookupCitizen", serviceVersion: "v1"),
        userId: "registry")
    static let logger = Logger(label: "registry-tests")
    static let population = Population(seed: 20_251_121, size: 50)
    static let soapHeaders: HTTPFields = [
        .contentType: "text/xml; charset=utf-8", HTTPField.Name("SOAPAction")!: #""urn:govbus:registry:LookupCitizen""#,
    ]
    static let schemas = Result {
        try SchemaCatalog(
            folder: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Schemas"))
    }

    static let request = IdentityVerificationRequestedV1(
        dossierId: "H01.04-251121-0015", personalId: "001188012345", fullName: "Nguyễn Thị Hương",
        dateOfBirth: CivilDate(year: 1988, month: 3, day: 14), requestedAt: Date(timeIntervalSince1970: 1_763_700_000))

    // MARK: The SOAP codec

    @Test("A LookupCitizen request carries the X-Road header and decodes back")
    func requestEnvelope() throws {
        let envelope = RegistryEnvelope.lookup(personalId: "001188012345", header: Self.peers.header(requestID: "req-1"))
        let xml = String(decoding: try RegistryXML.encode(envelope), as: UTF8.self)
        #expect(xml.contains(#"<soapenv:Envelope "#))
        #expect(xml.contains(#"xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/""#))
        #expect(xml.contains(#"xmlns:xrd="http://x-road.eu/xsd/xroad.xsd""#))
        #expect(xml.contains(#"xmlns:id="http://x-road.eu/xsd/identifiers""#))
        #expect(xml.contains(#"xmlns:reg="urn:govbus:registry""#))
        #expect(xml.contains(#"<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>VN</id:xRoadInstance>"#))
        #expect(xml.contains("<id:memberCode>000.00.00.H01</id:memberCode><id:subsystemCode>GOVBUS</id:subsystemCode>"))
        #expect(xml.contains(#"<xrd:service id:objectType="SERVICE">"#))
        #expect(xml.contains("<id:serviceCode>LookupCitizen</id:serviceCode><id:serviceVersion>v1</id:serviceVersion>"))
        #expect(xml.contains("<xrd:id>req-1</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion>"))
        #expect(xml.contains("<xrd:userId>registry</xrd:userId></soapenv:Header>"))
        #expect(xml.contains("<soapenv:Body><reg:LookupCitizen><reg:personalId>001188012345</reg:personalId>"))
        #expect(try RegistryXML.decode(Data(xml.utf8)) == envelope)
    }

    @Test("An answer is read whatever prefixes the registry's SOAP stack chose")
    func foreignPrefixes() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
                xmlns:x="http://x-road.eu/xsd/xroad.xsd" xmlns:i="http://x-road.eu/xsd/identifiers" xmlns:r="urn:govbus:registry">
              <SOAP-ENV:Header>
                <x:client i:objectType="SUBSYSTEM">
                  <i:xRoadInstance>VN</i:xRoadInstance><i:memberClass>GOV</i:memberClass>
                  <i:memberCode>000.00.00.H01</i:memberCode><i:subsystemCode>GOVBUS</i:subsystemCode>
                </x:client>
                <x:service i:objectType="SERVICE">
                  <i:xRoadInstance>VN</i:xRoadInstance><i:memberClass>GOV</i:memberClass>
                  <i:memberCode>000.00.00.B05</i:memberCode><i:subsystemCode>POPULATION</i:subsystemCode>
                  <i:serviceCode>LookupCitizen</i:serviceCode><i:serviceVersion>v1</i:serviceVersion>
                </x:service>
                <x:id>req-7</x:id>
                <x:protocolVersion>4.0</x:protocolVersion>
                <x:userId>registry</x:userId>
              </SOAP-ENV:Header>
              <SOAP-ENV:Body>
                <r:LookupCitizenResponse>
                  <r:citizen>
                    <r:personalId>001188012345</r:personalId>
                    <r:fullName>Nguyễn Thị Hương</r:fullName>
                    <r:dateOfBirth>1988-03-14</r:dateOfBirth>
                    <r:eIdLevel>2</r:eIdLevel>
                  </r:citizen>
                </r:LookupCitizenResponse>
              </SOAP-ENV:Body>
            </SOAP-ENV:Envelope>
            """
        let envelope = try RegistryXML.decode(Data(xml.utf8))
        #expect(envelope.header == Self.peers.header(requestID: "req-7"))
        let identity = try RegistryClient.outcome(
            status: 200, body: Data(xml.utf8), requestID: "req-7", personalId: "001188012345", logger: Self.logger)
        #expect(
            identity == RegisteredIdentity(fullName: "Nguyễn Thị Hương", dateOfBirth: Self.request.dateOfBirth, eIdLevel: 2))
        // The answer to another call, or about another citizen, is not taken.
        #expect(failureKind(status: 200, body: xml, requestID: "req-8") == "transient")
        #expect(failureKind(status: 200, body: xml, requestID: "req-7", personalId: "001188099999") == "transient")
    }

    @Test("A 'not found' fault is an answer; other faults, statuses and bodies are failures of their kind")
    func outcomes() throws {
        let notFound = Data(Self.faultXML(code: "soapenv:Client", text: "citizen not found").utf8)
        let answer = try RegistryClient.outcome(
            status: 500, body: notFound, requestID: "r", personalId: "001188012345", logger: Self.logger)
        #expect(answer == nil)
        #expect(failureKind(status: 500, body: Self.faultXML(code: "soapenv:Server", text: "database down")) == "transient")
        #expect(failureKind(status: 500, body: Self.faultXML(code: "soapenv:Server.ServerProxy", text: "slow")) == "transient")
        #expect(failureKind(status: 400, body: Self.faultXML(code: "soapenv:Client", text: "missing xrd:id")) == "permanent")
        #expect(failureKind(status: 503, body: #"{"error":{"message":"unavailable"}}"#) == "transient")
        #expect(failureKind(status: 502, body: "<html>Bad gateway</html>") == "transient")
        #expect(failureKind(status: 200, body: "<html>a login page</html>") == "transient")
        #expect(failureKind(status: 200, body: "not XML") == "transient")
        #expect(failureKind(status: 404, body: "Not Found") == "permanent")
    }

    // MARK: The identity check

    @Test("Names compare in NFC, whatever the case and the spaces")
    func nameComparison() {
        let composed = "Nguyễn Thị Hương"
        let decomposed = composed.decomposedStringWithCanonicalMapping
        #expect(Array(composed.unicodeScalars) != Array(decomposed.unicodeScalars))
        #expect(
            Array(IdentityCheck.comparableName(decomposed).unicodeScalars)
                == Array(IdentityCheck.comparableName(composed).unicodeScalars))
        #expect(IdentityCheck.comparableName("  NGUYỄN   thị\tHƯƠNG ") == IdentityCheck.comparableName(composed))
        #expect(IdentityCheck.comparableName("Nguyen Thi Huong") != IdentityCheck.comparableName(composed))
        #expect(IdentityCheck.comparableName("Nguyễn Thị Hưng") != IdentityCheck.comparableName(composed))
    }

    @Test("A match is verified with the registry's e-ID level")
    func verified() throws {
        let now = Date(timeIntervalSince1970: 1_763_700_100)
        let registered = RegisteredIdentity(
            fullName: "NGUYỄN THỊ HƯƠNG".decomposedStringWithCanonicalMapping, dateOfBirth: Self.request.dateOfBirth,
            eIdLevel: 1)
        let answer = IdentityCheck.answer(to: Self.request, registered: registered, at: now)
        let expected = IdentityVerifiedV1(
            dossierId: "H01.04-251121-0015", personalId: "001188012345", eIdLevel: 1, verifiedAt: now)
        #expect(answer == .verified(expected))
        try expectValid(expected)
    }

    @Test(
        "A mismatch is rejected naming the fields that differ",
        arguments: [
            ("Nguyễn Thị Hương", CivilDate(year: 1988, month: 4, day: 14), [IdentityRejectedV1.Field.dateOfBirth]),
            ("Nguyễn Thị Hồng", CivilDate(year: 1988, month: 3, day: 14), [.fullName]),
            ("Trần Văn Nam", CivilDate(year: 1990, month: 3, day: 14), [.fullName, .dateOfBirth]),
        ])
    func mismatch(fullName: String, dateOfBirth: CivilDate, fields: [IdentityRejectedV1.Field]) throws {
        let registered = RegisteredIdentity(fullName: fullName, dateOfBirth: dateOfBirth, eIdLevel: 2)
        let answer = IdentityCheck.answer(to: Self.request, registered: registered, at: Date())
        guard case .rejected(let rejected) = answer else {
            Issue.record("a mismatch was verified")
            return
        }
        #expect(rejected.result == .mismatch)
        #expect(rejected.mismatchedFields == fields)
        #expect(rejected.reason.code == "identity-mismatch")
        #expect(rejected.dossierId == Self.request.dossierId)
        try expectValid(rejected)
    }

    @Test("A personal id the registry does not know is rejected as not found, without fields")
    func notFound() throws {
        guard case .rejected(let rejected) = IdentityCheck.answer(to: Self.request, registered: nil, at: Date()) else {
            Issue.record("an unknown citizen was verified")
            return
        }
        #expect(rejected.result == .notFound)
        #expect(rejected.mismatchedFields == nil)
        #expect(rejected.reason.code == "identity-not-found")
        try expectValid(rejected)
    }

    @Test("The answer's message id is a UUID derived from the request's: the same for every delivery")
    func answerID() throws {
        let first = RegistryConnector.answerID(answering: "0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11")
        #expect(first == RegistryConnector.answerID(answering: "0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11"))
        #expect(first != RegistryConnector.answerID(answering: "0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a12"))
        #expect(first != "0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11")
        #expect(UUID(uuidString: first) != nil)
        #expect(first == first.lowercased())
    }

    @Test("The X-Road settings are read, and a missing one is named")
    func settings() throws {
        let settings = [
            "xroadInstance: VN", "clientMemberClass: GOV", "clientMemberCode: 000.00.00.H01", "clientSubsystem: GOVBUS",
            "serviceMemberClass: GOV", "serviceMemberCode: 000.00.00.B05", "serviceSubsystem: POPULATION",
        ]
        func configuration(_ settings: [String]) throws -> AdapterConfiguration {
            let text = """
                name: registry
                amqpUrl: amqp://registry:secret@127.0.0.1:5672/govbus
                signingKey:
                  id: registry-sandbox
                  seed: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
                listen: 127.0.0.1:8082
                system: http://127.0.0.1:9082
                settings:
                """ + settings.map { "\n  \($0)" }.joined()
            return try AdapterConfiguration(text, file: "registry.yaml", folder: FileManager.default.temporaryDirectory)
        }
        #expect(try XRoadPeers(configuration: configuration(settings)) == Self.peers)
        let error = #expect(throws: ConfigurationError.self) {
            try XRoadPeers(configuration: configuration(settings.filter { !$0.hasPrefix("serviceSubsystem") }))
        }
        #expect(error?.message == "settings.serviceSubsystem is missing")
    }

    // MARK: The sandbox

    @Test("The sandbox answers a known citizen and echoes the X-Road header")
    func knownCitizen() async throws {
        let citizen = Self.population.citizen(7)
        let request = RegistryEnvelope.lookup(
            personalId: citizen.personalId, header: Self.peers.header(requestID: "req-known"))
        try await withSandbox { client in
            try await client.execute(
                uri: "/registry/soap", method: .post, headers: Self.soapHeaders,
                body: ByteBuffer(bytes: try RegistryXML.encode(request))
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/xml; charset=utf-8")
                let body = Data(buffer: response.body)
                let answer = try RegistryXML.decode(body)
                #expect(answer.header == request.header)
                #expect(
                    answer.body.lookupCitizenResponse?.citizen
                        == RegistryCitizen(
                            personalId: citizen.personalId, fullName: citizen.fullName,
                            dateOfBirth: CivilDate(year: citizen.year, month: citizen.month, day: citizen.day).description,
                            eIdLevel: citizen.eIdLevel))
                let identity = try RegistryClient.outcome(
                    status: response.status.code, body: body, requestID: "req-known", personalId: citizen.personalId,
                    logger: Self.logger)
                #expect(
                    identity
                        == RegisteredIdentity(
                            fullName: citizen.fullName,
                            dateOfBirth: CivilDate(year: citizen.year, month: citizen.month, day: citizen.day),
                            eIdLevel: citizen.eIdLevel))
            }
        }
    }

    @Test("The sandbox faults an unknown personal id with HTTP 500 'citizen not found', an answer for the adapter")
    func unknownCitizen() async throws {
        let request = RegistryEnvelope.lookup(
            personalId: "999999999999", header: Self.peers.header(requestID: "req-unknown"))
        try await withSandbox { client in
            try await client.execute(
                uri: "/registry/soap", method: .post, headers: Self.soapHeaders,
                body: ByteBuffer(bytes: try RegistryXML.encode(request))
            ) { response in
                #expect(response.status == .internalServerError)
                let body = Data(buffer: response.body)
                let answer = try RegistryXML.decode(body)
                #expect(answer.body.fault == SOAPFault(faultcode: "soapenv:Client", faultstring: "citizen not found"))
                #expect(answer.header?.id == "req-unknown")
                #expect(
                    try RegistryClient.outcome(
                        status: response.status.code, body: body, requestID: "req-unknown", personalId: "999999999999",
                        logger: Self.logger) == nil)
            }
        }
    }

    @Test(
        "The sandbox refuses what is not a SOAP 1.1 envelope with HTTP 400 and a soapenv:Client fault",
        arguments: [
            (
                #"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><a></soapenv:Body></soapenv:Envelope>"#,
                "not well-formed XML"
            ),
            ("this is not XML", "not well-formed XML"),
            ("", "the body is empty"),
            (#"<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"/>"#, "must be the SOAP 1.1 Envelope"),
        ])
    func malformedRequest(body: String, problem: String) async throws {
        try await withSandbox { client in
            try await client.execute(
                uri: "/registry/soap", method: .post, headers: Self.soapHeaders, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .badRequest)
                let fault = try RegistryXML.decode(Data(buffer: response.body)).body.fault
                #expect(fault?.faultcode == "soapenv:Client")
                #expect(fault?.faultstring.contains(problem) == true, "\(fault?.faultstring ?? "no fault")")
                #expect(self.failureKind(status: response.status.code, body: String(buffer: response.body)) == "permanent")
            }
        }
    }

    @Test("The sandbox refuses a request missing an X-Road header field, naming it")
    func missingHeaderField() async throws {
        let request = RegistryEnvelope.lookup(personalId: "001188012345", header: Self.peers.header(requestID: "req-2"))
        let xml = String(decoding: try RegistryXML.encode(request), as: UTF8.self)
            .replacingOccurrences(of: "<id:memberCode>000.00.00.H01</id:memberCode>", with: "")
        try await withSandbox { client in
            try await client.execute(
                uri: "/registry/soap", method: .post, headers: Self.soapHeaders, body: ByteBuffer(string: xml)
            ) { response in
                #expect(response.status == .badRequest)
                let fault = try RegistryXML.decode(Data(buffer: response.body)).body.fault
                #expect(fault?.faultcode == "soapenv:Client")
                #expect(fault?.faultstring == "missing soapenv:Envelope/soapenv:Header/xrd:client/id:memberCode")
            }
        }
    }

    @Test("The sandbox's faults setting makes its service answer 503, and its own routes still answer")
    func faults() async throws {
        let request = RegistryEnvelope.lookup(personalId: "001188012345", header: Self.peers.header(requestID: "req-3"))
        let citizen = Self.population.citizen(3)
        try await withSandbox(faults: SandboxFaults(.init(failureRate: 1))) { client in
            try await client.execute(
                uri: "/registry/soap", method: .post, headers: Self.soapHeaders,
                body: ByteBuffer(bytes: try RegistryXML.encode(request))
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(self.failureKind(status: response.status.code, body: String(buffer: response.body)) == "transient")
            }
            try await client.execute(uri: "/_sandbox/citizens/\(citizen.personalId)", method: .get) { response in
                #expect(response.status == .ok)
                let served = try JSONDecoder().decode(RegisteredCitizen.self, from: Data(buffer: response.body))
                #expect(served == RegisteredCitizen(citizen))
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"up"}"#)
            }
        }
    }

    @Test("The sandbox's citizen route answers 404 for an unknown personal id")
    func unknownCitizenRoute() async throws {
        try await withSandbox { client in
            try await client.execute(uri: "/_sandbox/citizens/999999999999", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("The population is generated once, and again when it changes")
    func populationStore() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("registry.sqlite").path
        let directory = try CitizenDirectory(path: path)
        #expect(try await directory.load(Self.population))
        #expect(try await directory.load(Self.population) == false)
        let reopened = try CitizenDirectory(path: path)
        #expect(try await reopened.load(Self.population) == false)
        let last = Self.population.citizen(49)
        #expect(try await reopened.citizen(personalId: last.personalId) == RegisteredCitizen(last))
        #expect(try await reopened.load(Population(seed: Self.population.seed, size: 30)))
        #expect(try await reopened.citizen(personalId: last.personalId) == nil)
        #expect(try await reopened.citizen(personalId: Self.population.citizen(29).personalId) != nil)
    }

    // MARK: Helpers

    private func withSandbox(
        faults: SandboxFaults = SandboxFaults(), _ test: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let app = try await RegistrySandbox.application(
            options: .init(dataDirectory: folder, populationSize: Self.population.size, seed: Self.population.seed),
            faults: faults, logger: Self.logger)
        try await app.test(.router, test)
    }

    private static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("registry-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// How the adapter takes an HTTP answer of the registry: "transient" or "permanent" failure,
    /// nil when it took it as an answer.
    private func failureKind(
        status: Int, body: String, requestID: String = "r", personalId: String = "001188012345"
    ) -> String? {
        do throws(AdapterFailure) {
            _ = try RegistryClient.outcome(
                status: status, body: Data(body.utf8), requestID: requestID, personalId: personalId, logger: Self.logger)
            return nil
        } catch {
            switch error {
            case .transient: return "transient"
            case .permanent: return "permanent"
            }
        }
    }

    private static func faultXML(code: String, text: String) -> String {
        """
        <soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>\
        <soapenv:Fault><faultcode>\(code)</faultcode><faultstring>\(text)</faultstring></soapenv:Fault>\
        </soapenv:Body></soapenv:Envelope>
        """
    }

    private func expectValid<Message: GovBusMessage>(_ message: Message) throws {
        let schema = try #require(try Self.schemas.get().schema(for: Message.messageType))
        let errors = schema.validate(try JSONValue(parsing: try message.jsonBody()))
        #expect(errors.isEmpty, "\(Message.messageType) does not follow its schema: \(errors)")
    }
}
