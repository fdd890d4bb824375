public import Foundation
public import GovBusSandboxKit
public import Hummingbird
public import Logging
import NIOCore

/// A stand-in for the population / e-ID registry: its LookupCitizen service in SOAP 1.1 with
/// X-Road headers, on a generated population kept in SQLite.
///
/// - `POST /registry/soap` (`SOAPAction: "urn:govbus:registry:LookupCitizen"`): see
///   `LookupCitizenEndpoint`. Faults on demand apply here.
/// - `GET /health`: 200 `{"status":"up"}`.
/// - `GET /_sandbox/citizens/:personalId`: the citizen as JSON (`personalId`, `fullName`,
///   `dateOfBirth`, `eIdLevel`), 404 when unknown; for tests and the demo.
/// - `GET` and `PUT /_sandbox/faults`: latency, failures and timeouts (`SandboxFaults`).
public enum RegistrySandbox {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        /// Where `registry.sqlite` is kept.
        public var dataDirectory: URL
        /// How many citizens the registry holds: 1 to 1,000,000 (a personal id has a 6-digit serial).
        public var populationSize: Int
        /// The population's seed: the portal's sandbox must use the same to submit real citizens.
        public var seed: UInt64

        public init(
            host: String = "127.0.0.1", port: Int = 9082,
            dataDirectory: URL = URL(fileURLWithPath: "var/registry-sandbox"), populationSize: Int = 100_000,
            seed: UInt64 = Population().seed
        ) {
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.populationSize = populationSize
            self.seed = seed
        }
    }

    struct InvalidOptions: Error, CustomStringConvertible {
        let description: String
    }

    /// Generates the population on first start (a few seconds for 100,000 citizens), then serves.
    public static func application(
        options: Options, faults: SandboxFaults, logger: Logger
    ) async throws -> some ApplicationProtocol {
        guard (1...1_000_000).contains(options.populationSize) else {
            throw InvalidOptions(
                description:
                    "populationSize must be 1 to 1,000,000 (a personal id has a 6-digit serial), not \(options.populationSize)")
        }
        try FileManager.default.createDirectory(at: options.dataDirectory, withIntermediateDirectories: true)
        let directory = try CitizenDirectory(path: options.dataDirectory.appendingPathComponent("registry.sqlite").path)
        let population = Population(seed: options.seed, size: options.populationSize)
        if try await directory.load(population) {
            logger.info(
                "registry population generated", metadata: ["citizens": "\(population.size)", "seed": "\(population.seed)"])
        }

        let router = Router(context: BasicRequestContext.self)
        router.get("/health") { _, _ -> Response in
            try SandboxResponse.json(["status": "up"])
        }
        faults.addRoutes(to: router)
        router.get("/_sandbox/citizens/:personalId") { _, context -> Response in
            let personalId = try context.parameters.require("personalId")
            guard let citizen = try await directory.citizen(personalId: personalId) else {
                throw HTTPError(.notFound, message: "the registry holds no citizen with personal id \(personalId)")
            }
            return try SandboxResponse.json(citizen)
        }
        router.add(middleware: faults.middleware())
        let lookups = LookupCitizenEndpoint(directory: directory)
        router.post("/registry/soap") { request, _ -> Response in
            try await lookups.respond(to: request)
        }
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(options.host, port: options.port), serverName: "govbus-registry-sandbox"),
            logger: logger)
    }
}
