import GovBusConfiguration
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOFoundationCompat
import Synchronization
import Testing

@testable import GovBusConsole
@testable import GovBusCore

/// The console's login (the same answer and the same work for an unknown name, rate limits, a
/// bounded hash pool, JSON from its own origin only), and who an operator action is recorded
/// under.
@Suite("The console's login and its operators' names")
struct ConsoleLoginTests {
    static func login(_ client: some TestClientProtocol, _ name: String, _ password: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/login", method: .post, headers: ConsoleAPITests.loginHeaders,
            body: ByteBuffer(string: #"{"name":"\#(name)","password":"\#(password)"}"#)
        ) { $0 }
    }

    // MARK: Same answer, same work

    @Test("An unknown name and a wrong password both run scrypt, with the same parameters, and get the same answer")
    func unknownNameRunsScrypt() async throws {
        let fixture = try ConsoleAPITests.fixture()
        let logins = fixture.server.api.logins
        #expect(PasswordHash.parameters(of: logins.dummyHash) == PasswordHash.parameters(of: try ConsoleAPITests.operatorHash.get()))
        #expect(PasswordHash.parameters(of: logins.dummyHash) != nil)
        try await Application(router: fixture.server.router()).test(.router) { client in
            let unknown = try await Self.login(client, "nobody", "operator-secret")
            #expect(logins.passwordsChecked == 1)
            let wrong = try await Self.login(client, "lan", "wrong")
            #expect(logins.passwordsChecked == 2)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.status == .unauthorized)
            #expect(String(buffer: unknown.body) == String(buffer: wrong.body))
        }
    }

    // MARK: Rate limits

    @Test("After five failures for one name its next login answers 429 with Retry-After, without scrypt, even with the right password")
    func limitPerName() async throws {
        let fixture = try ConsoleAPITests.fixture()
        let logins = fixture.server.api.logins
        try await Application(router: fixture.server.router()).test(.router) { client in
            for _ in 0..<5 {
                #expect(try await Self.login(client, "lan", "wrong").status == .unauthorized)
            }
            let refused = try await Self.login(client, "lan", "operator-secret")
            #expect(refused.status == .tooManyRequests)
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 0 && retryAfter <= 15 * 60)
            #expect(logins.passwordsChecked == 5)
            // Another name from the same address still logs in.
            #expect(try await Self.login(client, "minh", "viewer-secret").status == .ok)
        }
    }

    @Test("After twenty failures from one address its next login answers 429, whatever the name")
    func limitPerAddress() async throws {
        let fixture = try ConsoleAPITests.fixture()
        let logins = fixture.server.api.logins
        try await Application(router: fixture.server.router()).test(.router) { client in
            for index in 0..<20 {
                #expect(try await Self.login(client, "guess-\(index)", "wrong").status == .unauthorized)
            }
            let refused = try await Self.login(client, "lan", "operator-secret")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] != nil)
            #expect(logins.passwordsChecked == 20)
        }
    }

    @Test("The limiter counts per name and per address in a sliding window; a success forgets its name's failures")
    func limiterWindow() {
        var limiter = LoginLimiter(window: .seconds(60), perName: 3, perAddress: 5)
        let start = ContinuousClock.now
        for second in 0..<3 {
            #expect(limiter.attempt(name: "lan", address: "10.0.0.1", at: start + .seconds(second)) == .allowed)
        }
        // The fourth for lan waits until the first leaves the window, from any address.
        #expect(limiter.attempt(name: "lan", address: "10.0.0.2", at: start + .seconds(10)) == .refused(retryAfter: .seconds(50)))
        #expect(limiter.attempt(name: "lan", address: "10.0.0.2", at: start + .seconds(60)) == .allowed)
        // 10.0.0.1 has three of its five: two more names pass, the third waits for the first to leave.
        #expect(limiter.attempt(name: "minh", address: "10.0.0.1", at: start + .seconds(20)) == .allowed)
        #expect(limiter.attempt(name: "an", address: "10.0.0.1", at: start + .seconds(21)) == .allowed)
        #expect(limiter.attempt(name: "binh", address: "10.0.0.1", at: start + .seconds(22)) == .refused(retryAfter: .seconds(38)))
        // Another address is not held up by 10.0.0.1.
        #expect(limiter.attempt(name: "binh", address: "10.0.0.3", at: start + .seconds(22)) == .allowed)
        // A success forgets the name's failures and takes its own try back from the address.
        let now = start + .seconds(61)
        #expect(limiter.attempt(name: "lan", address: "10.0.0.4", at: now) == .allowed)
        #expect(limiter.names["lan"]?.count == 3)
        limiter.succeeded(name: "lan", address: "10.0.0.4", at: now)
        #expect(limiter.names["lan"] == nil)
        #expect(limiter.addresses["10.0.0.4"] == nil)
        // A try never checked counts for nothing.
        #expect(limiter.attempt(name: "minh", address: "10.0.0.5", at: now) == .allowed)
        limiter.notChecked(name: "minh", address: "10.0.0.5", at: now)
        #expect(limiter.addresses["10.0.0.5"] == nil)
        #expect(limiter.names["minh"]?.count == 1)
    }

    @Test("The limiter remembers a bounded number of names: the oldest are forgotten first")
    func limiterForgetsOldest() {
        var limiter = LoginLimiter(window: .seconds(60), perName: 3, perAddress: 1000, remembered: 10)
        let start = ContinuousClock.now
        for index in 0..<25 {
            _ = limiter.attempt(name: "name-\(index)", address: "10.0.0.1", at: start + .milliseconds(index))
        }
        #expect(limiter.names.count == 10)
        #expect(limiter.names["name-24"] != nil)
        #expect(limiter.names["name-0"] == nil)
    }

    // MARK: Bounded hashing

    @Test("The hash pool runs at most its width at once, lets its depth wait, and refuses the next at once")
    func concurrencyLimit() {
        var limit = ConcurrencyLimit<String>(width: 2, depth: 1)
        #expect(limit.admit("a") == .run)
        #expect(limit.admit("b") == .run)
        #expect(limit.admit("c") == .wait)
        #expect(limit.admit("d") == .refuse)
        #expect(limit.finished() == "c")
        #expect(limit.running == 2)
        #expect(limit.finished() == nil)
        #expect(limit.finished() == nil)
        #expect(limit.running == 0)
        #expect(limit.admit("e") == .run)
    }

    final class Gate: Sendable {
        let open = Mutex(false)
        let entered = Mutex(0)
    }

    @Test("A full hash pool answers Busy at once, and the waiting work runs when a place frees")
    func hashPoolBusy() async throws {
        let pool = HashPool(width: 1, depth: 1)
        let gate = Gate()
        let first = Task {
            try await pool.run {
                gate.entered.withLock { $0 += 1 }
                while !gate.open.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.001) }
                return 1
            }
        }
        while gate.entered.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let second = Task { try await pool.run { 2 } }
        while pool.load.waiting == 0 { try await Task.sleep(for: .milliseconds(1)) }
        await #expect(throws: HashPool.Busy.self) { try await pool.run { 3 } }
        gate.open.withLock { $0 = true }
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        #expect(pool.load.running == 0)
    }

    // MARK: JSON from the console's own origin

    @Test("A login that is not JSON answers 415; one without Origin or from another origin answers 403")
    func loginNeedsJSONFromOwnOrigin() async throws {
        let fixture = try ConsoleAPITests.fixture()
        let body = ByteBuffer(string: #"{"name":"lan","password":"operator-secret"}"#)
        let notJSON: [HTTPFields] = [
            [.origin: ConsoleAPITests.origin], [.contentType: "text/plain", .origin: ConsoleAPITests.origin],
            [.contentType: "application/x-www-form-urlencoded", .origin: ConsoleAPITests.origin],
        ]
        let notOwnOrigin: [HTTPFields] = [
            [.contentType: "application/json"], [.contentType: "application/json", .origin: "http://evil.example"],
            [.contentType: "application/json", .origin: "null"], [.contentType: "application/json", .origin: "https://console.test:8090"],
        ]
        try await Application(router: fixture.server.router()).test(.router) { client in
            for headers in notJSON {
                try await client.execute(uri: "/api/login", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .unsupportedMediaType, "\(headers)")
                }
            }
            for headers in notOwnOrigin {
                try await client.execute(uri: "/api/login", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden, "\(headers)")
                    #expect(String(buffer: response.body).contains("console.test:8090"))
                }
            }
            #expect(fixture.server.api.logins.passwordsChecked == 0)
            try await client.execute(
                uri: "/api/login", method: .post, headers: [.contentType: "application/json; charset=utf-8", .origin: ConsoleAPITests.origin],
                body: body
            ) { #expect($0.status == .ok) }
            // An action from another origin is refused too, session and CSRF token or not.
            let (cookie, csrf) = try await ConsoleAPITests.login(client, "lan", "operator-secret")
            try await client.execute(
                uri: "/api/dead-letters/1/discard", method: .post,
                headers: [.cookie: cookie, .init("X-CSRF-Token")!: csrf, .origin: "http://evil.example"]
            ) { #expect($0.status == .forbidden) }
        }
    }

    @Test("The console's origin is its publicUrl, else its listen address; a wildcard listen needs a publicUrl")
    func publicOrigin() throws {
        func configuration(_ lines: String) throws(ConfigurationError) -> ConsoleConfiguration {
            try ConsoleConfiguration(
                lines + "\namqpUrl: amqp://u:p@127.0.0.1/govbus\noperators:\n  - {name: lan, role: operator, passwordHash: \"scrypt$1024$8$1$c2FsdA==$a2V5\"}",
                file: "console.yaml", folder: FileManager.default.temporaryDirectory)
        }
        #expect(try configuration("listen: 127.0.0.1:8090").publicOrigin == "http://127.0.0.1:8090")
        #expect(try configuration("listen: 0.0.0.0:8090\npublicUrl: HTTPS://Console.Example.gov.vn:443/").publicOrigin
            == "https://console.example.gov.vn")
        #expect(try configuration("publicUrl: http://console.example:8090").publicOrigin == "http://console.example:8090")
        let wildcard = #expect(throws: ConfigurationError.self) { _ = try configuration("listen: 0.0.0.0:8090") }
        #expect(wildcard?.message.contains("publicUrl") == true)
        #expect(throws: ConfigurationError.self) { _ = try configuration("publicUrl: https://example.org/console") }
        #expect(throws: ConfigurationError.self) { _ = try configuration("publicUrl: ftp://example.org") }
    }

    // MARK: Operators act under their session's name

    final class Decisions: Sendable {
        struct Decision: Equatable, Sendable {
            var dossier: String
            var retry: Bool
            var reason: String?
            var name: String
        }

        let list = Mutex<[Decision]>([])
    }

    static let token = "test-operator-token-0123456789-abcdef"

    /// The core's operator endpoint, deciding nothing but what it was told.
    static func operatorEndpoint(_ decisions: Decisions) -> Router<BasicRequestContext> {
        let router = Router()
        OperatorEndpoint.addRoutes(to: router, token: token) { dossier, retry, reason, name in
            decisions.list.withLock { $0.append(.init(dossier: dossier, retry: retry, reason: reason, name: name)) }
            return (state: "awaiting-identity", ignoredBecause: nil)
        }
        return router
    }

    @Test("An operator action whose body says operator: mallory is recorded under the session's operator")
    func actionsUnderSessionName() async throws {
        let decisions = Decisions()
        let core = Application(
            router: Self.operatorEndpoint(decisions), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await core.test(.live) { coreClient in
            let port = try #require(coreClient.port)
            let fixture = try ConsoleAPITests.fixture(coreEndpoint: ("http://127.0.0.1:\(port)", Self.token))
            try await Application(router: fixture.server.router()).test(.router) { client in
                let (cookie, csrf) = try await ConsoleAPITests.login(client, "lan", "operator-secret")
                let headers: HTTPFields = [.cookie: cookie, .init("X-CSRF-Token")!: csrf, .contentType: "application/json"]
                try await client.execute(
                    uri: "/api/dossiers/H01.04-251121-0007/retry", method: .post, headers: headers,
                    body: ByteBuffer(string: #"{"operator":"mallory","reason":"registry back"}"#)
                ) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    #expect(String(buffer: response.body).contains("awaiting-identity"))
                }
                try await client.execute(
                    uri: "/api/dead-letters/1/discard", method: .post, headers: headers,
                    body: ByteBuffer(string: #"{"operator":"mallory"}"#)
                ) { #expect($0.status == .ok) }
            }
            let actions = try fixture.audit.records(correlationID: "H01.04-251121-0007").filter { $0.kind == .operatorAction }
            #expect(actions.map(\.sender) == ["lan"])
        }
        #expect(
            decisions.list.withLock { $0 }
                == [.init(dossier: "H01.04-251121-0007", retry: true, reason: "registry back", name: "lan")])
    }

    @Test("The core's operator endpoint takes the operator's name from GovBus-Operator only, never from the body")
    func endpointNameFromHeader() async throws {
        let decisions = Decisions()
        try await Application(router: Self.operatorEndpoint(decisions)).test(.router) { client in
            let uri = "/operator/dossiers/H01.04-251121-0007/reject"
            let body = ByteBuffer(string: #"{"operator":"mallory","reason":"forged"}"#)
            // No token, or another one: 401.
            try await client.execute(uri: uri, method: .post, headers: [.init("GovBus-Operator")!: "lan"], body: body) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(
                uri: uri, method: .post,
                headers: [.authorization: "Bearer \(Self.token)x", .init("GovBus-Operator")!: "lan"], body: body
            ) { #expect($0.status == .unauthorized) }
            // The token but no name in the header: 400, whatever the body says.
            try await client.execute(uri: uri, method: .post, headers: [.authorization: "Bearer \(Self.token)"], body: body) {
                #expect($0.status == .badRequest)
            }
            // The header's name, percent-encoded (names need not be ASCII).
            try await client.execute(
                uri: uri, method: .post,
                headers: [
                    .authorization: "Bearer \(Self.token)",
                    .init(OperatorEndpoint.operatorHeader)!: OperatorEndpoint.headerValue(naming: "Lân"),
                ],
                body: body
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"state":"awaiting-identity"}"#)
            }
        }
        #expect(
            decisions.list.withLock { $0 } == [.init(dossier: "H01.04-251121-0007", retry: false, reason: "forged", name: "Lân")])
    }

    // MARK: Token length

    @Test("An operator token shorter than 32 characters is refused from the core's file, its environment and the console's file")
    func shortTokens() throws {
        let folder = FileManager.default.temporaryDirectory
        let core = "amqpUrl: amqp://u:p@127.0.0.1/govbus\n"
        let short = "0123456789abcdef0123456789abcde"  // 31
        let long = "0123456789abcdef0123456789abcdef"  // 32

        let fromFile = #expect(throws: ConfigurationError.self) {
            _ = try CoreConfiguration(core + "operatorToken: \(short)", file: "core.yaml", folder: folder, environment: [:])
        }
        #expect(fromFile?.message.contains("operatorToken") == true)
        #expect(fromFile?.message.contains("32") == true)
        #expect(fromFile?.line == 2)

        let fromEnvironment = #expect(throws: ConfigurationError.self) {
            _ = try CoreConfiguration(
                core + "operatorToken: \(long)", file: "core.yaml", folder: folder, environment: ["GOVBUS_OPERATOR_TOKEN": short])
        }
        #expect(fromEnvironment?.message.contains("GOVBUS_OPERATOR_TOKEN") == true)

        #expect(try CoreConfiguration(core + "operatorToken: \(long)", file: "core.yaml", folder: folder, environment: [:]).operatorToken == long)
        #expect(
            try CoreConfiguration(core, file: "core.yaml", folder: folder, environment: ["GOVBUS_OPERATOR_TOKEN": long]).operatorToken == long)
        #expect(try CoreConfiguration(core, file: "core.yaml", folder: folder, environment: [:]).operatorToken == nil)

        func console(_ token: String) throws(ConfigurationError) -> ConsoleConfiguration {
            try ConsoleConfiguration(
                """
                amqpUrl: amqp://u:p@127.0.0.1/govbus
                core: {url: "http://127.0.0.1:9464", operatorToken: \(token)}
                operators:
                  - {name: lan, role: operator, passwordHash: "scrypt$1024$8$1$c2FsdA==$a2V5"}
                """, file: "console.yaml", folder: folder)
        }
        let fromConsole = #expect(throws: ConfigurationError.self) { _ = try console(short) }
        #expect(fromConsole?.message.contains("core.operatorToken") == true)
        #expect(try console(long).core?.token == long)
    }
}
