import Foundation
import GRDB
import GovBusSandboxKit

/// A citizen as the registry holds and serves them (JSON on `/_sandbox/citizens`, XML in
/// `reg:citizen`).
struct RegisteredCitizen: Codable, Sendable, Hashable {
    var personalId: String
    var fullName: String
    /// YYYY-MM-DD.
    var dateOfBirth: String
    /// 1 or 2 (VNeID level).
    var eIdLevel: Int

    init(personalId: String, fullName: String, dateOfBirth: String, eIdLevel: Int) {
        self.personalId = personalId
        self.fullName = fullName
        self.dateOfBirth = dateOfBirth
        self.eIdLevel = eIdLevel
    }

    init(_ citizen: Population.Citizen) {
        self.init(
            personalId: citizen.personalId, fullName: citizen.fullName,
            dateOfBirth: String(format: "%04d-%02d-%02d", citizen.year, citizen.month, citizen.day),
            eIdLevel: citizen.eIdLevel)
    }
}

/// The registry's citizens in SQLite (`registry.sqlite`): generated from a `Population` on first
/// start in one transaction, and kept as long as the population's seed and size stay the same.
struct CitizenDirectory: Sendable {
    private let database: DatabasePool

    init(path: String) throws {
        database = try DatabasePool(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("citizens v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE citizen (
                        personal_id TEXT PRIMARY KEY,
                        full_name TEXT NOT NULL,
                        date_of_birth TEXT NOT NULL,
                        eid_level INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE population (seed TEXT NOT NULL, size INTEGER NOT NULL);
                    """)
        }
        try migrator.migrate(database)
    }

    /// Generates `population` unless the directory holds it already; true when it generated it.
    @discardableResult
    func load(_ population: Population) async throws -> Bool {
        try await database.write { db in
            // The seed is a UInt64, beyond SQLite's integers: kept as text.
            let storedSeed = try String.fetchOne(db, sql: "SELECT seed FROM population")
            let storedSize = try Int.fetchOne(db, sql: "SELECT size FROM population")
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM citizen") ?? 0
            if storedSeed == String(population.seed), storedSize == population.size, count == population.size {
                return false
            }
            try db.execute(sql: "DELETE FROM citizen; DELETE FROM population")
            let insert = try db.makeStatement(
                sql: "INSERT INTO citizen (personal_id, full_name, date_of_birth, eid_level) VALUES (?, ?, ?, ?)")
            for index in 0..<population.size {
                let citizen = RegisteredCitizen(population.citizen(index))
                try insert.execute(arguments: [citizen.personalId, citizen.fullName, citizen.dateOfBirth, citizen.eIdLevel])
            }
            try db.execute(
                sql: "INSERT INTO population (seed, size) VALUES (?, ?)",
                arguments: [String(population.seed), population.size])
            return true
        }
    }

    func citizen(personalId: String) async throws -> RegisteredCitizen? {
        try await database.read { db in
            // Cached per connection: the demo makes hundreds of lookups a second.
            let select = try db.cachedStatement(
                sql: "SELECT personal_id, full_name, date_of_birth, eid_level FROM citizen WHERE personal_id = ?")
            return try Row.fetchOne(select, arguments: [personalId]).map { row in
                RegisteredCitizen(personalId: row[0], fullName: row[1], dateOfBirth: row[2], eIdLevel: row[3])
            }
        }
    }
}
