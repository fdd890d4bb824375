import ArgumentParser
import Foundation

/// Where a command finds a secret: a file named by an option, else an environment variable, else
/// (sandboxes only) a default. Never the command line itself: any user of the machine may read
/// every process's arguments (ps, /proc/<pid>/cmdline), and shells keep them in their history.
enum Secret {
    /// The secret in `file` (its content less surrounding white space) when one is named, else
    /// the value of `variable` when it is set and not empty, else nil.
    static func read(
        file: String?, variable: String, option: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String? {
        if let file {
            let text: String
            do {
                text = try String(contentsOf: URL(fileURLWithPath: file), encoding: .utf8)
            } catch {
                throw ValidationError("\(option) \(file): cannot read it: \(error.localizedDescription)")
            }
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw ValidationError("\(option) \(file): the file is empty") }
            return secret
        }
        if let value = environment[variable], !value.isEmpty { return value }
        return nil
    }
}
