import CoreTestFixtures
import Foundation
import Testing

@testable import GovBusCore

/// What `govbus config diff` and the audit log say changes between two versions.
@Suite("The difference between two configurations")
struct ConfigurationDiffTests {
    func routes(_ text: String) throws -> RoutesFile {
        try RoutesFile(text, file: "routes.yaml", knownTypes: Set(try CoreFixtures.catalog.get().messageTypes))
    }

    @Test("Adapters, permissions, keys and rules added, removed or changed: one line each; the same file: none")
    func routesChanges() throws {
        let before = try routes(
            """
            adapters:
              portal:
                keys: {portal-1: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}
                publishes: [portal.dossier.submitted.v1]
                receives: [portal.dossier.status-changed.v1]
              document:
                keys: {document-1: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}
                publishes: [document.issued.v1]
                receives: [document.issue-requested.v1]
            """)
        let after = try routes(
            """
            adapters:
              portal:
                keys: {portal-2: BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=}
                publishes: [portal.dossier.submitted.v1]
                receives: []
              document:
                keys: {document-1: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}
                publishes: [document.issued.v1]
                receives: [document.issue-requested.v1]
              documentnorth:
                keys: {north-1: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}
                publishes: [document.issued.v1]
                receives: [document.issue-requested.v1]
            rules:
              - type: document.issue-requested.v1
                when: {communeCode: ["00004", "00006"]}
                to: documentnorth
            """)
        #expect(
            ConfigurationDiff(routes: before, after).changes == [
                "+ adapter documentnorth",
                "- portal receives portal.dossier.status-changed.v1",
                "+ key north-1 of documentnorth",
                "+ key portal-2 of portal",
                "- key portal-1 of portal",
                "+ rule document.issue-requested.v1 where communeCode in [00004, 00006] → documentnorth",
            ])
        #expect(ConfigurationDiff(routes: after, after).isEmpty)
    }

    @Test("Procedures added, removed or changed")
    func procedureChanges() throws {
        let procedures = try CoreFixtures.procedures().procedures
        var changed = procedures
        let code = try #require(procedures.keys.sorted().first)
        changed[code]?.maximumAttempts += 1
        changed["9.999999"] = procedures[code]
        #expect(ConfigurationDiff(procedures: procedures, changed).changes == ["+ procedure 9.999999", "~ procedure \(code)"])
        #expect(ConfigurationDiff(procedures: changed, procedures).changes == ["- procedure 9.999999", "~ procedure \(code)"])
    }
}
