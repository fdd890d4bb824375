import ArgumentParser
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Queues, adapters, dossiers and alerts, from the console.")

    @OptionGroup var options: ConsoleOptions
    @Flag(help: "Print again every 3 s until interrupted.") var watch = false

    func run() async throws {
        let client = try await options.client()
        repeat {
            let data = try await client.get("/api/overview")
            if options.json {
                print(String(decoding: data, as: UTF8.self))
            } else {
                let overview = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
                let queues = overview["queues"] as? [[String: Any]] ?? []
                let adapters = overview["adapters"] as? [[String: Any]] ?? []
                if watch { print("\u{1B}[2J\u{1B}[H", terminator: "") }
                print(
                    textTable(
                        ["queue", "depth", "unacked", "consumers", "publish/s", "deliver/s"],
                        queues.map { queue in
                            [
                                "\(queue["name"] ?? "")", "\(queue["messages"] ?? 0)", "\(queue["unacked"] ?? "-")",
                                "\(queue["consumers"] ?? 0)", "\(queue["publishRate"] ?? "-")", "\(queue["deliverRate"] ?? "-")",
                            ]
                        }))
                print()
                print(
                    textTable(
                        ["adapter", "state", "last heartbeat", "version", "in (1 h)", "out (1 h)"],
                        adapters.map { adapter in
                            [
                                "\(adapter["name"] ?? "")", "\(adapter["state"] ?? "")", "\(adapter["lastHeartbeat"] ?? "never")",
                                "\(adapter["version"] ?? "-")", "\(adapter["messagesIn"] ?? 0)", "\(adapter["messagesOut"] ?? 0)",
                            ]
                        }))
                let dossiers = (overview["dossiers"] as? [String: Int] ?? [:]).sorted { $0.key < $1.key }
                print("\ndossiers: " + dossiers.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                for alert in overview["alerts"] as? [String] ?? [] { print("ALERT: \(alert)") }
            }
            if watch { try await Task.sleep(for: .seconds(3)) }
        } while watch
    }
}

struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "The dead letters: list, show, replay, discard.",
        subcommands: [List.self, Show.self, Replay.self, Discard.self])

    struct Filter: ParsableArguments {
        @Option(help: "Only this message type.") var type: String?
        @Option(help: "Only from this sender.") var sender: String?
        @Option(help: "Only those that failed this check.") var check: String?

        var query: String {
            let pairs = [("type", type), ("sender", sender), ("check", check)].compactMap { name, value in
                value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" }
            }
            return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The dead letters waiting for an operator.")
        @OptionGroup var options: ConsoleOptions
        @OptionGroup var filter: Filter

        func run() async throws {
            let data = try await options.client().get("/api/dead-letters" + filter.query)
            if options.json { return print(String(decoding: data, as: UTF8.self)) }
            let letters = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
            print(
                textTable(
                    ["id", "time", "type", "sender", "check", "attempts", "reason"],
                    letters.map { letter in
                        ["id", "at", "type", "sender", "check", "attempts", "reason"].map { "\(letter[$0] ?? "")" }
                    }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One dead letter, its body decoded (personal data masked for viewers).")
        @OptionGroup var options: ConsoleOptions
        @Argument(help: "Its id.") var id: Int

        func run() async throws {
            let data = try await options.client().get("/api/dead-letters/\(id)")
            if options.json { return print(String(decoding: data, as: UTF8.self)) }
            let letter = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            for key in ["id", "at", "type", "sender", "correlationId", "check", "reason", "attempts", "origin", "status"] {
                print("\(key): \(letter[key] ?? "")")
            }
            print("body:\n\(letter["body"] ?? "")")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters back where they were going: one by id, or all that match a filter (--all).")
        @OptionGroup var options: ConsoleOptions
        @OptionGroup var filter: Filter
        @Argument(help: "Its id.") var id: Int?
        @Flag(help: "Every waiting letter that matches the filter.") var all = false

        func run() async throws {
            let path = try DeadLettersCommand.path(id: id, all: all, filter: filter, action: "replay")
            print(String(decoding: try await options.client().post(path), as: UTF8.self))
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop dead letters for good (recorded): one by id, or all that match a filter (--all).")
        @OptionGroup var options: ConsoleOptions
        @OptionGroup var filter: Filter
        @Argument(help: "Its id.") var id: Int?
        @Flag(help: "Every waiting letter that matches the filter.") var all = false

        func run() async throws {
            let path = try DeadLettersCommand.path(id: id, all: all, filter: filter, action: "discard")
            print(String(decoding: try await options.client().post(path), as: UTF8.self))
        }
    }

    static func path(id: Int?, all: Bool, filter: Filter, action: String) throws -> String {
        switch (id, all) {
        case (let id?, false): return "/api/dead-letters/\(id)/\(action)"
        case (nil, true): return "/api/dead-letters/\(action)" + filter.query
        default: throw ValidationError("give one id, or --all with a filter")
        }
    }
}

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "A dossier's path across the subsystems, from the audit log.")

    @OptionGroup var options: ConsoleOptions
    @Argument(help: "The dossier's id (MaHoSo).") var dossier: String

    func run() async throws {
        let data = try await options.client().get(
            "/api/dossiers/" + (dossier.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? dossier))
        if options.json { return print(String(decoding: data, as: UTF8.self)) }
        let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let summary = page["dossier"] as? [String: Any] ?? [:]
        print("\(dossier): \(summary["procedureName"] ?? "") · \(summary["state"] ?? "")\(summary["overdue"] as? Bool == true ? " · OVERDUE" : "")")
        let timeline = page["timeline"] as? [[String: Any]] ?? []
        print(
            textTable(
                ["time", "+s", "from", "to", "type"],
                timeline.map { entry in
                    [
                        "\(entry["at"] ?? "")", (entry["sincePrevious"] as? Double).map { String(format: "%.2f", $0) } ?? "",
                        "\(entry["sender"] ?? "")", (entry["receivers"] as? [String]).map { $0.isEmpty ? "core" : $0.joined(separator: ",") } ?? "",
                        "\(entry["type"] ?? "")",
                    ]
                }))
    }
}
