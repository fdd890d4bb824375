public import GRDB

/// A sandbox's SQLite file: write-ahead log with `synchronous = NORMAL`. A sandbox stands in for
/// an outside system, whose durability is not the bus's to prove; a sync per write made the
/// portal sandbox, which records every status the bus reports, one of the busiest processes of a
/// run. A crash still leaves the file whole (only the last commits may be lost).
public enum SandboxDatabase {
    public static func open(path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        return try DatabasePool(path: path, configuration: configuration)
    }
}
