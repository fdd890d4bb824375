import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// Where the terminal commands (`status`, `dlq`, `trace`) find the console, and who they are:
/// they use its API, with its access rules, and its audit of every action.
struct ConsoleOptions: ParsableArguments {
    @Option(help: "The console (default: $GOVBUS_CONSOLE_URL, else http://127.0.0.1:18100).") var console: String?
    @Option(help: "Your console account (default: $GOVBUS_CONSOLE_USER).") var user: String?
    @Flag(help: "Print JSON for scripts instead of tables.") var json = false

    func client() async throws -> ConsoleClient {
        let environment = ProcessInfo.processInfo.environment
        let base = console ?? environment["GOVBUS_CONSOLE_URL"] ?? "http://127.0.0.1:18100"
        guard let name = user ?? environment["GOVBUS_CONSOLE_USER"] else {
            throw ValidationError("who are you? pass --user or set GOVBUS_CONSOLE_USER (and GOVBUS_CONSOLE_PASSWORD)")
        }
        let password: String
        if let fromEnvironment = environment["GOVBUS_CONSOLE_PASSWORD"] {
            password = fromEnvironment
        } else {
            FileHandle.standardError.write(Data("password for \(name): ".utf8))
            password = readLine(strippingNewline: true) ?? ""
        }
        return try await ConsoleClient.login(base: base, name: name, password: password)
    }
}

struct ConsoleClient {
    let base: String
    let cookie: String
    let csrfToken: String

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func login(base: String, name: String, password: String) async throws -> ConsoleClient {
        var request = HTTPClientRequest(url: base + "/api/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        // The console takes a login only from its own origin (the address it is served at).
        request.headers.add(name: "Origin", value: base)
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["name": name, "password": password])))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 200, let cookie = response.headers["set-cookie"].first?.split(separator: ";").first,
            let answer = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: String],
            let csrf = answer["csrfToken"]
        else { throw Failure(description: "the console refused the login (\(response.status.code)): \(String(buffer: body))") }
        return ConsoleClient(base: base, cookie: String(cookie), csrfToken: csrf)
    }

    func get(_ path: String) async throws -> Data {
        try await send("GET", path)
    }

    func post(_ path: String, json body: Data? = nil) async throws -> Data {
        try await send("POST", path, body: body)
    }

    private func send(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Origin", value: base)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        request.headers.add(name: "Cookie", value: cookie)
        request.headers.add(name: "X-CSRF-Token", value: csrfToken)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = Data(buffer: try await response.body.collect(upTo: 64 << 20))
        guard (200..<300).contains(response.status.code) else {
            throw Failure(description: "\(method) \(path): \(response.status.code) \(String(decoding: body, as: UTF8.self))")
        }
        return body
    }
}

/// Columns for people: each as wide as its widest cell.
func textTable(_ header: [String], _ rows: [[String]]) -> String {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    return ([header] + rows).map { row in
        row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }.joined(separator: "\n")
}
