/// The text of each file `govbus new-connector` writes. Generated code follows the project's
/// style and compiles without a warning: CI builds every connector with warnings as failures.
extension ConnectorScaffold {
    var connectorSource: String {
        """
        import Foundation
        public import GovBusAdapterKit
        import GovBusContracts

        /// \(typeName)'s connector, made by `govbus new-connector \(name)`: each dossier submitted on the
        /// portal goes to \(typeName)'s system (`POST {system}/api/dossiers`, JSON), and the system's
        /// receipt comes back on the bus as `\(messageType)`, into the dossier's timeline.
        ///
        /// Make `record` speak the agency's real protocol (a shared protocol module goes in
        /// Adapters/Protocols/), and add a handler for each message type the adapter receives.
        public struct \(typeName)Connector: Connector {
            private let runtime: AdapterRuntime
            private let system: ExternalSystem

            public init(runtime: AdapterRuntime) throws {
                self.runtime = runtime
                system = runtime.externalSystem(named: "\(name)'s system")
            }

            public var handlers: MessageHandlers {
                MessageHandlers().on(DossierSubmittedV1.self, record)
            }

            /// Sends the dossier to the system and publishes its receipt. The receipt's message id
            /// follows from the request's, so that a redelivered request is answered once.
            func record(_ dossier: DossierSubmittedV1, _ message: InboxMessage) async throws {
                let fields = ["dossierId": dossier.dossierId, "procedureCode": dossier.procedure.code, "communeCode": dossier.communeCode]
                let request = OutboundRequest(
                    url: runtime.configuration.system.appendingPathComponent("api/dossiers").absoluteString,
                    headers: [("Content-Type", "application/json")], body: try JSONEncoder().encode(fields))
                let answer = try await system.send(request, for: message)
                guard let receipt = try? JSONDecoder().decode([String: String].self, from: answer.body),
                    let reference = receipt["reference"], !reference.isEmpty
                else {
                    throw AdapterFailure.transient("\(name)'s system answered something that is not a receipt: \\(answer.excerpt)")
                }
                try await runtime.send(
                    \(messageTypeName)(dossierId: dossier.dossierId, reference: reference, recordedAt: Date()),
                    correlationID: dossier.dossierId, causationID: message.messageID,
                    messageID: runtime.derivedID("\(name)-recorded", message.messageID))
            }
        }

        """
    }

    var sandboxSource: String {
        """
        public import Foundation
        public import GovBusSandboxKit
        public import Hummingbird
        public import Logging
        import NIOCore
        import NIOFoundationCompat
        import Synchronization

        /// A stand-in for \(typeName)'s system, made by `govbus new-connector \(name)`: it records
        /// dossiers and answers each with a receipt. Make it behave like the real system, as strictly.
        ///
        /// - `POST /api/dossiers` (JSON with a `dossierId`): 200 `{"reference": "\(name.uppercased())-000001"}`, the
        ///   same reference for the same dossier; 400 without a dossier id. Faults on demand apply here.
        /// - `GET /_sandbox/dossiers`: the dossiers recorded and their references, for tests.
        /// - `GET /health`; `GET` and `PUT /_sandbox/faults` (`SandboxFaults`).
        public enum \(typeName)Sandbox {
            public static func application(
                host: String, port: Int, dataDirectory: URL, faults: SandboxFaults, logger: Logger
            ) async throws -> some ApplicationProtocol {
                let recorded = Recorded()
                let router = Router(context: BasicRequestContext.self)
                router.get("/health") { _, _ -> Response in
                    try SandboxResponse.json(["status": "up"])
                }
                faults.addRoutes(to: router)
                router.get("/_sandbox/dossiers") { _, _ -> Response in
                    try SandboxResponse.json(recorded.all)
                }
                router.add(middleware: faults.middleware())
                router.post("/api/dossiers") { request, _ -> Response in
                    let body = try await request.body.collect(upTo: 64 * 1024)
                    guard let fields = try? JSONDecoder().decode([String: String].self, from: Data(buffer: body)),
                        let dossierId = fields["dossierId"], !dossierId.isEmpty
                    else {
                        throw HTTPError(.badRequest, message: "expected a JSON object with a dossierId")
                    }
                    return try SandboxResponse.json(["reference": recorded.reference(for: dossierId)])
                }
                return Application(
                    router: router,
                    configuration: .init(address: .hostname(host, port: port), serverName: "govbus-\(name)-sandbox"),
                    logger: logger)
            }

            /// The dossiers recorded, each with its reference; in memory, so a sandbox starts empty.
            final class Recorded: Sendable {
                private let references = Mutex<[String: String]>([:])

                func reference(for dossierId: String) -> String {
                    references.withLock { references in
                        if let known = references[dossierId] { return known }
                        let serial = String(references.count + 1)
                        let reference = "\(name.uppercased())-" + String(repeating: "0", count: max(0, 6 - serial.count)) + serial
                        references[dossierId] = reference
                        return reference
                    }
                }

                var all: [String: String] { references.withLock { $0 } }
            }
        }

        """
    }

    var contractSource: String {
        """
        public import Foundation

        /// \(name) → core: \(typeName)'s system recorded a dossier submitted on the portal; `reference`
        /// is its own number for it. Made by `govbus new-connector \(name)`.
        public struct \(messageTypeName): GovBusMessage {
            public static let messageType = "\(messageType)"

            public var dossierId: String
            public var reference: String
            public var recordedAt: Date

            public init(dossierId: String, reference: String, recordedAt: Date) {
                self.dossierId = dossierId
                self.reference = reference
                self.recordedAt = recordedAt
            }
        }

        """
    }

    var schema: String {
        """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "$id": "https://govbus.gov.vn/schemas/\(messageType).schema.json",
          "title": "Dossier recorded by \(typeName) (\(messageType))",
          "description": "\(name) → core. \(typeName)'s system recorded a dossier submitted on the portal; reference is its own number for it.",
          "type": "object",
          "required": [
            "dossierId",
            "reference",
            "recordedAt"
          ],
          "properties": {
            "dossierId": {
              "$ref": "common.schema.json#/$defs/dossierId"
            },
            "reference": {
              "type": "string",
              "minLength": 1,
              "maxLength": 64,
              "description": "\(typeName)'s own number for the dossier."
            },
            "recordedAt": {
              "$ref": "common.schema.json#/$defs/timestamp"
            }
          },
          "additionalProperties": false
        }

        """
    }

    /// Two valid examples and two invalid ones, with what each invalid one must fail.
    var examples: [String: String] {
        let prefix = name.uppercased()
        return [
            "valid-1.json": #"{"dossierId": "H01.04-251121-0007", "reference": "\#(prefix)-000001", "recordedAt": "2025-11-21T09:30:00+07:00"}"# + "\n",
            "valid-2.json": #"{"dossierId": "H56.22-251122-0101", "reference": "2025/118", "recordedAt": "2025-11-22T02:00:00Z"}"# + "\n",
            "invalid-reference-empty.json": #"{"dossierId": "H01.04-251121-0007", "reference": "", "recordedAt": "2025-11-21T09:30:00+07:00"}"# + "\n",
            "invalid-missing-recorded-at.json": #"{"dossierId": "H01.04-251121-0007", "reference": "\#(prefix)-000001"}"# + "\n",
            "expectations.json": """
                [
                  {
                    "file": "invalid-reference-empty.json",
                    "reason": "an empty reference",
                    "instancePath": "/reference",
                    "keyword": "minLength"
                  },
                  {
                    "file": "invalid-missing-recorded-at.json",
                    "reason": "no time of recording",
                    "instancePath": "",
                    "keyword": "required"
                  }
                ]

                """,
        ]
    }

    var testSource: String {
        """
        import AMQP
        import AMQPTesting
        import Foundation
        import GovBus
        import GovBusAdapterKit
        import GovBusContracts
        import GovBusSandboxKit
        import Hummingbird
        import HummingbirdTesting
        import Logging
        import Testing
        import \(typeName)Adapter
        import \(typeName)Sandbox

        /// \(typeName)'s connector, made by `govbus new-connector \(name)`: its adapter against its sandbox
        /// (a real HTTP server), over an in-memory broker. No RabbitMQ.
        @Suite("\(typeName) connector: adapter and sandbox")
        struct \(typeName)ConnectorTests {
            static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()

            static func runtime(system: String) throws -> AdapterRuntime {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-tests-\\(UUID().uuidString)")
                let configuration = try AdapterConfiguration(
                    \"\"\"
                    name: \(name)
                    amqpUrl: amqp://\(name):unused@127.0.0.1:1/govbus
                    signingKey: {id: \(name)-test, seed: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}
                    listen: 127.0.0.1:0
                    system: \\(system)
                    data: \\(folder.path)
                    schemas: \\(repository.appendingPathComponent("Schemas").path)
                    heartbeat: 1h
                    \"\"\", file: "\(name).yaml", folder: folder)
                var logger = Logger(label: "\(name)-tests")
                logger.logLevel = .critical
                return try AdapterRuntime(configuration: configuration, logger: logger)
            }

            static func submitted(_ dossierId: String) throws -> AMQPMessage {
                let example = try Data(
                    contentsOf: repository.appendingPathComponent("Schemas/examples/portal.dossier.submitted.v1/valid-1.json"))
                var dossier = try DossierSubmittedV1(jsonBody: example)
                dossier.dossierId = dossierId
                return AMQPMessage(
                    body: Array(try dossier.jsonBody()),
                    properties: AMQPProperties(
                        correlationID: dossierId, messageID: UUID().uuidString.lowercased(), type: DossierSubmittedV1.messageType,
                        userID: "govbus-core"))
            }

            @Test("A submitted dossier is recorded by the sandbox and its receipt goes out signed; a redelivery goes out once")
            func recordsDossiers() async throws {
                let sandbox = try await \(typeName)Sandbox.application(
                    host: "127.0.0.1", port: 0, dataDirectory: FileManager.default.temporaryDirectory, faults: SandboxFaults(),
                    logger: Logger(label: "\(name)-sandbox"))
                try await sandbox.test(.live) { client in
                    let runtime = try Self.runtime(system: "http://127.0.0.1:\\(client.port!)")
                    let broker = InMemoryBroker(user: "\(name)")
                    let inbox = BusAddresses.inbox(of: "\(name)")
                    broker.declare(queue: inbox)
                    broker.bind(queue: "ingress", exchange: BusAddresses.ingressExchange)
                    let running = Task { try await runtime.run(try \(typeName)Connector(runtime: runtime), over: broker) }
                    defer { running.cancel() }

                    let request = try Self.submitted("H01.04-251121-0007")
                    broker.put(request, on: inbox)
                    broker.put(request, on: inbox)
                    try await broker.wait(until: { $0.acked.count == 2 && (try? runtime.outbox.count) == 0 })
                    let receipts = broker.published.filter { $0.routingKey == \(messageTypeName).messageType }
                    #expect(receipts.count == 1)
                    let receipt = try \(messageTypeName)(jsonBody: Data(try #require(receipts.first).message.body))
                    #expect(receipt.dossierId == "H01.04-251121-0007")
                    #expect(receipt.reference == "\(name.uppercased())-000001")
                    #expect(receipts.first?.message.properties.headers?[BusHeader.signature] != nil)
                }
            }

            @Test("The sandbox refuses a request without a dossier id and answers /health")
            func refusals() async throws {
                let sandbox = try await \(typeName)Sandbox.application(
                    host: "127.0.0.1", port: 0, dataDirectory: FileManager.default.temporaryDirectory, faults: SandboxFaults(),
                    logger: Logger(label: "\(name)-sandbox"))
                try await sandbox.test(.router) { client in
                    try await client.execute(uri: "/api/dossiers", method: .post, body: ByteBuffer(string: "{}")) { response in
                        #expect(response.status == .badRequest)
                    }
                    try await client.execute(uri: "/health", method: .get) { response in
                        #expect(response.status == .ok)
                    }
                }
            }
        }

        """
    }
}
