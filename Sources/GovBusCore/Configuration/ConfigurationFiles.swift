import Crypto
import Foundation
package import GovBusConfiguration

/// The files a core runs by, routes.yaml, procedures.yaml and communes.yaml, each read once: what is parsed and
/// what is hashed are the same bytes, so the digest a core records is the version it runs, even
/// when an operator writes a file while the core reads it.
package struct ConfigurationFiles: Sendable {
    package let routes: RoutesFile
    package let procedures: ProceduresFile
    package let communes: CommuneChanges
    /// sha256 of both files' bytes: the same files on every core give the same digest.
    package let digest: String

    /// Both files, checked whole; nothing is in force until both are good. `environment` says
    /// whether public sandbox keys are allowed (`SandboxKeyCheck`).
    package init(
        _ configuration: CoreConfiguration, knownTypes: Set<String>, environment: [String: String]
    ) throws(ConfigurationError) {
        let routesText = try Self.read(configuration.routes)
        let proceduresText = try Self.read(configuration.procedures)
        let communesText = try configuration.communes.map { file throws(ConfigurationError) in try Self.read(file) }
        routes = try RoutesFile(routesText, file: configuration.routes.path, knownTypes: knownTypes)
        try SandboxKeyCheck.check(routes: routes, file: configuration.routes, environment: environment)
        procedures = try ProceduresFile(proceduresText, file: configuration.procedures.path)
        communes = try communesText.map { text throws(ConfigurationError) in
            try CommuneChanges(text, file: configuration.communes?.path ?? "communes.yaml")
        } ?? .none
        var hash = SHA256()
        for text in [routesText, proceduresText, communesText ?? ""] { hash.update(data: Data(text.utf8)) }
        digest = hash.finalize().lowercaseHex
    }

    private static func read(_ file: URL) throws(ConfigurationError) -> String {
        do {
            return try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: file.path, line: 1, message: "cannot read the file: \(error.localizedDescription)")
        }
    }
}
