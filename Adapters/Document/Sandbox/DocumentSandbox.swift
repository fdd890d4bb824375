public import Foundation
public import GovBusSandboxKit
public import Hummingbird
public import Logging

/// A stand-in for the document management system: it takes edXML packages (QCVN 102:2016),
/// numbers each document in its issuing organ's register for the year, signs it with its Ed25519
/// key, keeps it in SQLite (`dataDirectory/documents.sqlite`) and serves it back.
///
/// The system's routes (faults apply to them):
/// - `POST /edxml/documents`, an `edXML:edXMLEnvelope` (application/xml): 201 with an
///   `edXML:Status` (DocumentId, OrganId, CodeNumber, CodeNotation, PromulgationDate dd/MM/yyyy,
///   Sha256, Signature, RetrievalUrl, IssuedAt); 200 with the same status for a document id seen
///   before; 400 with an `edXML:Error` (ErrorCode, Description) for a package it refuses.
///   The register is the To organ's; the year is the promulgation date's.
/// - `GET /edxml/documents/:organ/:year/:number`: the document's bytes (404 when unknown).
///
/// For tests and the demo:
/// - `GET /_sandbox/documents?organ=`: the register as JSON (every organ's without `organ`).
/// - `GET /_sandbox/signing-key`: `{"publicKey": base64}`, the raw Ed25519 key that checks signatures.
/// - `GET` and `PUT /_sandbox/faults`; `GET /health`.
public enum DocumentSandbox {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var dataDirectory: URL
        /// Where documents are served, as written in their retrieval URLs. The bus's contract
        /// wants https, so this is the address of a TLS front (the sandbox speaks plain HTTP).
        public var publicURL: String
        /// Base64 of a 32-byte Ed25519 seed; nil: a key made on first start and kept in
        /// `dataDirectory`.
        public var signingSeed: String?

        public init(
            host: String = "127.0.0.1", port: Int = 9084,
            dataDirectory: URL = URL(fileURLWithPath: "var/document-sandbox"),
            publicURL: String = "https://vanban.sandbox.govbus.local", signingSeed: String? = nil
        ) {
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.publicURL = publicURL
            self.signingSeed = signingSeed
        }
    }

    public static func application(
        options: Options, faults: SandboxFaults, logger: Logger
    ) async throws -> some ApplicationProtocol {
        try FileManager.default.createDirectory(at: options.dataDirectory, withIntermediateDirectories: true)
        var publicURL = options.publicURL
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        let system = DocumentSystem(
            register: try DocumentRegister(path: options.dataDirectory.appendingPathComponent("documents.sqlite").path),
            signer: try DocumentSigner.load(seed: options.signingSeed, folder: options.dataDirectory),
            publicURL: publicURL,
            logger: logger)

        let router = Router()
        router.get("/health") { _, _ in
            try SandboxResponse.json(["status": "up"])
        }
        faults.addRoutes(to: router)
        router.get("/_sandbox/documents") { request, _ in
            try system.listing(organ: request.uri.queryParameters.get("organ"))
        }
        router.get("/_sandbox/signing-key") { _, _ in
            try system.publicKey()
        }
        router.group("/edxml/documents")
            .add(middleware: faults.middleware())
            .post { request, _ in
                try await system.issue(request)
            }
            .get("/:organ/:year/:number") { _, context in
                try system.document(
                    organ: try context.parameters.require("organ"), year: try context.parameters.require("year", as: Int.self),
                    number: try context.parameters.require("number", as: Int.self))
            }
        return Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "govbus-document-sandbox"),
            logger: logger)
    }
}
