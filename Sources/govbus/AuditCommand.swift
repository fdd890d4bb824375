import ArgumentParser
import Foundation
import GovBusCore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The core's audit log.", subcommands: [AuditVerifyCommand.self])
}

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit log's hash chain; name the first record that does not hold.",
        discussion: "Exit status: 0 when the chain holds, 1 when a record is broken, 2 when the log cannot be read.")

    @Option(help: "The audit log's SQLite file (default: $GOVBUS_AUDIT_DATABASE).") var database: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let path = database ?? ProcessInfo.processInfo.environment["GOVBUS_AUDIT_DATABASE"] else {
            throw ValidationError("no audit log: pass --database or set GOVBUS_AUDIT_DATABASE")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            printError("no audit log at \(path)")
            throw ExitCode(2)
        }
        let result: AuditLog.VerificationResult
        do {
            result = try AuditLog(path: path).verify()
        } catch {
            printError("cannot read the audit log \(path): \(error)")
            throw ExitCode(2)
        }
        if json {
            var object: [String: Any] = ["records": result.records, "intact": result.firstBroken == nil]
            if let broken = result.firstBroken {
                object["first_broken_record"] = broken.sequence
                object["reason"] = broken.reason
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else if let broken = result.firstBroken {
            print("audit log \(path): BROKEN at record \(broken.sequence): \(broken.reason)")
        } else {
            print("audit log \(path): intact, \(result.records) records")
        }
        if result.firstBroken != nil { throw ExitCode(1) }
    }
}
