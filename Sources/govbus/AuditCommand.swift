import ArgumentParser
import Foundation
import GovBusContracts
import GovBusCore
import GovBusStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The core's audit log.", subcommands: [AuditVerifyCommand.self])
}

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit log's hash chain, and the core's signed checkpoints; name what does not hold.",
        discussion: """
            The chain alone shows a record changed or removed in the middle. With --checkpoint (the \
            core's checkpoints file, one JSON line each, from a copy kept off the machine), each \
            checkpoint's signature is checked with the core's public key (--public-key, or the `core` \
            keys of --routes), and the log must still have, at its number, the record whose hash the \
            core signed: a log cut short or rewritten with recomputed hashes fails. Records after the \
            last checkpoint are not anchored. \
            Exit status: 0 when everything holds, 1 when a record or a checkpoint does not, 2 when \
            a file cannot be read.
            """)

    @Option(help: "The audit log's SQLite file (default: $GOVBUS_AUDIT_DATABASE).") var database: String?
    @Option(help: "The cores' store instead, postgres://… or a data folder (default: $GOVBUS_STORE).") var store: String?
    @Option(help: "The core's checkpoints file (JSON lines) to check the log against.") var checkpoint: String?
    @Option(name: .customLong("public-key"), help: "The core's Ed25519 public key, base64, for the checkpoints.")
    var publicKey: String?
    @Option(help: "A routes file whose `core: {keys: ...}` holds the core's public keys.") var routes: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if checkpoint != nil, publicKey == nil, routes == nil {
            throw ValidationError("--checkpoint needs the core's public key: pass --public-key or --routes")
        }
        if checkpoint == nil, publicKey != nil || routes != nil {
            throw ValidationError("--public-key and --routes check checkpoints: pass --checkpoint too")
        }
        if let publicKey, Data(base64Encoded: publicKey)?.count != 32 {
            throw ValidationError("--public-key must be a 32-byte Ed25519 public key in base64")
        }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let path: String
        let open: () throws -> AuditLog
        if let database = database ?? (store == nil ? environment["GOVBUS_AUDIT_DATABASE"] : nil) {
            guard FileManager.default.fileExists(atPath: database) else {
                printError("no audit log at \(database)")
                throw ExitCode(2)
            }
            path = database
            open = { try AuditLog(path: database) }
        } else if let text = store ?? environment["GOVBUS_STORE"] {
            let location: StoreLocation
            do {
                location = try StoreLocation(text)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
            path = location.description
            open = { try AuditLog(location, readOnly: true) }
        } else {
            throw ValidationError("no audit log: pass --database or --store, or set GOVBUS_AUDIT_DATABASE or GOVBUS_STORE")
        }
        let log: AuditLog
        let result: AuditLog.VerificationResult
        do {
            log = try open()
            result = try log.verify()
        } catch {
            printError("cannot read the audit log \(path): \(error)")
            throw ExitCode(2)
        }
        // The checkpoints count once the chain holds: a broken chain fails already.
        var checked: (checkpoints: Int, anchoredThrough: Int64, failure: String?)?
        if let checkpoint, result.firstBroken == nil {
            do {
                let checkpoints = try AuditCheckpoint.read(contentsOf: URL(fileURLWithPath: checkpoint))
                let verification = try log.verify(checkpoints: checkpoints, publicKeys: try publicKeys(for: checkpoints))
                checked = (verification.checkpoints, verification.anchoredThrough, verification.failure?.description)
            } catch let error as AuditCheckpointError {
                // A line that is not a checkpoint: the file was tampered with or damaged.
                guard case .malformed = error else {
                    printError("\(error)")
                    throw ExitCode(2)
                }
                checked = (0, 0, error.description)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
        }
        let failed = result.firstBroken != nil || checked?.failure != nil
        if json {
            var object: [String: Any] = ["records": result.records, "intact": !failed]
            if let broken = result.firstBroken {
                object["first_broken_record"] = broken.sequence
                object["reason"] = broken.reason
            }
            if let checked {
                object["checkpoints"] = checked.checkpoints
                object["anchored_through"] = checked.anchoredThrough
                if let failure = checked.failure { object["checkpoint_failure"] = failure }
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else if let broken = result.firstBroken {
            print("audit log \(path): BROKEN at record \(broken.sequence): \(broken.reason)")
        } else if let checked, let failure = checked.failure {
            print("audit log \(path): the chain of \(result.records) records holds, but a CHECKPOINT FAILS: \(failure)")
        } else if let checked {
            let unanchored = Int64(result.records) - checked.anchoredThrough
            print(
                "audit log \(path): intact, \(result.records) records; \(checked.checkpoints) checkpoints hold, "
                    + "up to record \(checked.anchoredThrough)"
                    + (unanchored > 0 ? " (the \(unanchored) records after it are not anchored yet)" : ""))
        } else {
            print("audit log \(path): intact, \(result.records) records")
        }
        if failed { throw ExitCode(1) }
    }

    /// The core's public keys by key id: --public-key for every key id of the file, else the
    /// routes file's `core` keys.
    private func publicKeys(for checkpoints: [(line: Int, checkpoint: AuditCheckpoint)]) throws -> [String: String] {
        if let publicKey {
            return Dictionary(checkpoints.map { ($0.checkpoint.keyID, publicKey) }, uniquingKeysWith: { first, _ in first })
        }
        guard let routes else { return [:] }
        let file = try RoutesFile(
            contentsOf: URL(fileURLWithPath: routes), knownTypes: Set(MessageCatalogue.all.map { $0.messageType }))
        guard !file.coreKeys.isEmpty else {
            throw ValidationError("\(routes) lists no key of the core (core: {keys: {<key id>: <base64>}})")
        }
        return file.coreKeys
    }
}
