import AMQP
import GovBusStore
import AsyncHTTPClient
import Foundation
import GovBus
import GovBusCore
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// The JSON API behind every page (described in `docs/console-openapi.yaml`): overview, dossiers,
/// dead letters, audit, charts; login and logout.
/// A viewer gets personal data masked and may take no action (403).
struct ConsoleAPI: Sendable {
    let configuration: ConsoleConfiguration
    let sessions: Sessions
    /// Checks names and passwords: same answer and time for unknown names, rate-limited, bounded.
    let logins: ConsoleLogin
    let core: CoreDataReader
    let archive: DeadLetterArchive
    let queues: QueueFigures
    let audit: AuditLog
    let adapters: [String]
    /// Publishes to the core, through its ingress: a replayed letter (the second argument says
    /// where it was going), or a fee paid at the counter.
    let replay: @Sendable (AMQPMessage, String) async throws -> Void
    /// Signs edited replays; nil when the configuration has no key.
    let signer: MessageSigner?
    /// The core's broker user, which the console publishes as.
    let coreUser: String
    let logger: Logger
    let depthTrend = DepthTrend()
    /// The procedures' step timeouts, by code (empty without a procedures file).
    let procedures: [String: ProcedureDefinition]
    let communes: CommuneChanges
    let liveEvents: LiveEvents

    func addRoutes(to router: Router<ConsoleContext>) {
        // JSON from the console's own origin only: `AccessMiddleware` sees to it.
        router.post("/api/login") { request, context in try await login(request, context) }
        router.post("/api/logout") { request, _ -> Response in
            sessions.end(request.cookies[Sessions.cookieName]?.value)
            var response = Response(status: .noContent)
            response.setCookie(.init(name: Sessions.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        router.get("/api/me") { _, context in
            try json(
                Me(name: context.session?.name ?? "", role: context.session?.role.rawValue ?? "", csrfToken: context.session?.csrfToken ?? ""))
        }
        router.get("/api/overview") { _, _ in try await overview() }
        router.get("/api/dossiers") { request, context in try dossierList(request, context) }
        router.get("/api/dossiers/:id") { _, context in try dossier(try context.parameters.require("id"), context) }
        for action in ["retry", "reject"] {
            router.post("/api/dossiers/:id/\(action)") { request, context in
                try await decide(try context.parameters.require("id"), action: action, request, context)
            }
        }
        router.post("/api/dossiers/:id/counter-payment") { request, context in
            try await recordCounterPayment(try context.parameters.require("id"), request, context)
        }
        router.get("/api/dead-letters") { request, context in
            let letters = try archive.list(try deadLetterFilter(request))
            return try json(letters.map { masked($0, for: context) })
        }
        router.get("/api/dead-letters/:id") { _, context in
            guard let letter = try archive.letter(try context.parameters.require("id", as: Int64.self)) else {
                throw HTTPError(.notFound, message: "no such dead letter")
            }
            return try json(masked(letter, for: context))
        }
        router.post("/api/dead-letters/:id/replay") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let body = try await request.body.collect(upTo: 1 << 20)
            guard body.readableBytes > 0 else { return try await act(on: [id], action: .replayed, context) }
            guard let edit = try? JSONDecoder().decode(Edit.self, from: Data(buffer: body)) else {
                throw HTTPError(.badRequest, message: "expected {\"body\": \"the edited JSON body\"}")
            }
            return try await replayEdited(id, body: edit.body, context)
        }
        router.post("/api/dead-letters/:id/discard") { _, context in
            try await act(on: [try context.parameters.require("id", as: Int64.self)], action: .discarded, context)
        }
        router.post("/api/dead-letters/replay") { request, context in
            try await act(on: try archive.list(try deadLetterFilter(request)).map(\.id), action: .replayed, context)
        }
        router.post("/api/dead-letters/discard") { request, context in
            try await act(on: try archive.list(try deadLetterFilter(request)).map(\.id), action: .discarded, context)
        }
        router.get("/api/audit") { _, _ in
            let result = try audit.verify()
            return try json(
                AuditStatus(
                    records: result.records, intact: result.firstBroken == nil, firstBroken: result.firstBroken?.sequence,
                    reason: result.firstBroken?.reason, checkedAt: Date()))
        }
        router.get("/api/charts") { _, _ in
            try json(
                Charts(
                    throughput: try core.throughput(), perAdapter: try core.throughputPerAdapter(adapters),
                    completionSeconds: try core.completionTimes()))
        }
        router.get("/api/stuck") { _, context in
            var stuck = try core.stuck(communes: communes)
            for index in stuck.waiting.indices {
                stuck.waiting[index].dossiers = stuck.waiting[index].dossiers.map { masked($0, for: context) }
            }
            for index in stuck.overdueByCommune.indices {
                stuck.overdueByCommune[index].dossiers = stuck.overdueByCommune[index].dossiers.map { masked($0, for: context) }
            }
            return try json(stuck)
        }
        router.get("/api/events") { request, _ in
            // The access middleware let the request in: its session is valid.
            try liveEvents.response(session: request.cookies[Sessions.cookieName]?.value ?? "")
        }
    }

    struct AuditStatus: Codable {
        var records: Int
        var intact: Bool
        var firstBroken: Int64?
        var reason: String?
        var checkedAt: Date
    }

    struct Charts: Codable {
        var throughput: [CoreDataReader.ThroughputPoint]
        var perAdapter: [CoreDataReader.AdapterPoint]
        var completionSeconds: [Double]
    }

    struct Overview: Codable {
        var queueSource: String
        var queues: [QueueFigures.Queue]
        var adapters: [CoreDataReader.AdapterActivity]
        var dossiers: [String: Int]
        var deadLettersWaiting: Int
        var alerts: [String]
    }

    // MARK: Login

    struct Credentials: Decodable {
        var name: String
        var password: String
    }

    /// Who is logged in, and the token their actions carry in `X-CSRF-Token`.
    struct Me: Codable {
        var name: String
        var role: String
        var csrfToken: String
    }

    func login(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let credentials = try? JSONDecoder().decode(Credentials.self, from: Data(buffer: body)) else {
            throw HTTPError(.badRequest, message: "expected {\"name\", \"password\"}")
        }
        let account: ConsoleConfiguration.Operator
        do {
            account = try await logins.check(name: credentials.name, password: credentials.password, address: context.clientAddress)
        } catch {
            logger.warning(
                "failed login", metadata: ["name": "\(credentials.name)", "address": "\(context.clientAddress ?? "-")", "error": "\(error)"])
            throw error
        }
        let (token, session) = sessions.start(name: account.name, role: account.role)
        var response = try json(Me(name: session.name, role: session.role.rawValue, csrfToken: session.csrfToken))
        response.setCookie(
            .init(name: Sessions.cookieName, value: token, maxAge: Int(Sessions.lifetime), path: "/", httpOnly: true, sameSite: .strict))
        logger.info("login", metadata: ["name": "\(account.name)", "role": "\(account.role.rawValue)"])
        return response
    }

    // MARK: Pages' data

    func overview() async throws -> Response {
        let names = [CoreTopology.coreQueue, CoreTopology.deadLetterQueue] + adapters.map(CoreTopology.inbox(of:))
        let (source, figures) = try await queues.queues(named: names)
        let activity = try core.adapters(adapters)
        let waiting = try archive.waitingCount()
        var alerts: [String] = []
        for adapter in activity where adapter.state != "up" { alerts.append("adapter \(adapter.name) is \(adapter.state)") }
        for queue in figures where queue.messages > 1000 { alerts.append("\(queue.name) holds \(queue.messages) messages") }
        for queue in depthTrend.growing(figures) { alerts.append("\(queue) is growing") }
        if let dead = figures.first(where: { $0.name == CoreTopology.deadLetterQueue }), dead.messages > 0 {
            alerts.append("\(dead.messages) dead letters arriving")
        }
        if waiting > 0 { alerts.append("\(waiting) dead letters wait for an operator") }
        return try json(
            Overview(
                queueSource: source, queues: figures, adapters: activity, dossiers: try core.countsByState(),
                deadLettersWaiting: waiting, alerts: alerts))
    }

    func dossierList(_ request: Request, _ context: ConsoleContext) throws -> Response {
        let query = request.uri.queryParameters
        var filter = CoreDataReader.DossierFilter()
        filter.text = query.get("q").flatMap { $0.isEmpty ? nil : $0 }
        filter.procedure = query.get("procedure").flatMap { $0.isEmpty ? nil : $0 }
        filter.state = query.get("state").flatMap { $0.isEmpty ? nil : $0 }
        filter.commune = query.get("commune").flatMap { $0.isEmpty ? nil : $0 }
        filter.communes = communes
        filter.overdueOnly = query.get("overdue") == "1"
        return try json(try core.dossierList(filter).map { masked(withCommune($0), for: context) })
    }

    struct DossierPage: Codable {
        var dossier: CoreDataReader.DossierRow
        var transitions: [CoreDataReader.TransitionRow]
        var timeline: [CoreDataReader.TimelineEntry]
        var steps: [StepTiming]
        /// The dossier's trace in the tracing tool, when the console knows where that is.
        var traceUrl: String?
    }

    func dossier(_ id: String, _ context: ConsoleContext) throws -> Response {
        guard let row = try core.dossier(id) else { throw HTTPError(.notFound, message: "no dossier \(id)") }
        var timeline = try core.timeline(of: id)
        // The commune's reorganisation while the dossier ran is part of its story.
        let end = CoreDataReader.finalStates.contains(row.state) ? row.updatedAt : Date()
        for change in communes.changes(of: row.communeCode, between: row.submittedAt, and: end) {
            timeline.append(
                CoreDataReader.TimelineEntry(
                    sequence: 0, at: change.effective, kind: "commune-change",
                    type: "commune \(change.from.joined(separator: ", ")) became \(change.into) (\(change.name))",
                    sender: "reorganisation", receivers: [], messageId: "", sincePrevious: nil, body: nil))
        }
        timeline.sort { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
        for index in timeline.indices {
            timeline[index].body = timeline[index].body.map { seesPersonalData(context) ? $0 : PersonalDataMask.body($0) }
        }
        var transitions = try core.transitions(of: id)
        for index in transitions.indices where !seesPersonalData(context) {
            transitions[index].ignoredBecause = transitions[index].ignoredBecause.map { PersonalDataMask.text($0) }
        }
        let steps = StepTiming.steps(of: transitions, procedure: procedures[row.procedureCode])
        let traceURL = try configuration.traceURL.flatMap { template in
            try core.trace(of: id).map { template.replacingOccurrences(of: "{traceId}", with: $0.traceID) }
        }
        return try json(
            DossierPage(
                dossier: masked(withCommune(row), for: context), transitions: transitions, timeline: timeline, steps: steps, traceUrl: traceURL))
    }

    func deadLetterFilter(_ request: Request) throws -> DeadLetterArchive.Filter {
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? { query.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        var status = DeadLetterStatus.waiting
        if let text = value("status") {
            guard let given = DeadLetterStatus(rawValue: text) else {
                throw HTTPError(
                    .badRequest, message: "status is one of \(DeadLetterStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = given
        }
        return DeadLetterArchive.Filter(type: value("type"), sender: value("sender"), check: value("check"), status: status)
    }

    // MARK: Actions

    /// Replays or discards letters, each recorded in the audit log with the operator's name.
    func act(on ids: [Int64], action: DeadLetterStatus, _ context: ConsoleContext) async throws -> Response {
        guard let session = context.session, session.role == .operator_ else {
            throw HTTPError(.forbidden, message: "a viewer takes no action")
        }
        var done: [Int64] = []
        for id in ids {
            guard let letter = try archive.letter(id), letter.status == .waiting else { continue }
            if action == .replayed {
                guard let (message, origin) = try archive.message(id) else { continue }
                // A letter the broker dead-lettered from the core's queue still bears its sender's
                // user id: it goes back as the core's copy, as every replay does.
                try await replay(message.withoutForgedCoreHeaders(coreUser: coreUser).forwarded(byCore: coreUser), origin)
            }
            try archive.mark(id, status: action)
            let record = try ActionRecord(
                action: action.rawValue, deadLetter: id, messageId: letter.messageId, type: letter.type, check: letter.check, to: letter.origin
            ).encoded()
            try audit.append(
                kind: .operatorAction, messageID: UUID().uuidString.lowercased(), type: "operator.dead-letter.\(action.rawValue)",
                sender: session.name, receivers: action == .replayed ? [letter.origin] : [],
                correlationID: letter.correlationId, body: record, signature: "")
            logger.info("dead letter \(action.rawValue)", metadata: ["id": "\(id)", "operator": "\(session.name)"])
            done.append(id)
        }
        return try json([action.rawValue: done])
    }

    /// An operator action as the audit log keeps it.
    struct ActionRecord: Encodable {
        var action: String
        var deadLetter: Int64
        var messageId: String
        var type: String
        var check: String?
        var to: String
        var before: String?
        var after: String?

        func encoded() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(self)
        }
    }

    /// What the browser may say about a retry or rejection: why. Who decides is the session's
    /// operator, whatever else the body holds.
    struct Decision: Codable {
        var reason: String?
    }

    /// An operator's retry or rejection of a dossier: the core acts, and records it with the
    /// operator's name, which the console alone gives it (`GovBus-Operator`, from the session).
    func decide(_ id: String, action: String, _ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let session = context.session, session.role == .operator_ else {
            throw HTTPError(.forbidden, message: "a viewer takes no action")
        }
        guard let core = configuration.core else {
            throw HTTPError(.conflict, message: "no core in the console's configuration: it cannot act on dossiers")
        }
        let body = try await request.body.collect(upTo: 16 * 1024)
        let reason = (try? JSONDecoder().decode(Decision.self, from: Data(buffer: body)))?.reason
        var call = HTTPClientRequest(
            url: core.url.appendingPathComponent("operator/dossiers").appendingPathComponent(id).appendingPathComponent(action)
                .absoluteString)
        call.method = .POST
        call.headers.add(name: "Authorization", value: "Bearer \(core.token)")
        call.headers.add(name: OperatorEndpoint.operatorHeader, value: OperatorEndpoint.headerValue(naming: session.name))
        call.headers.add(name: "Content-Type", value: "application/json")
        call.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(Decision(reason: reason))))
        let response = try await HTTPClient.shared.execute(call, timeout: .seconds(30))
        let answer = try await response.body.collect(upTo: 64 * 1024)
        guard response.status.code == 200 else {
            throw HTTPError(.badGateway, message: "the core answered \(response.status.code): \(String(buffer: answer))")
        }
        logger.info("dossier \(action)", metadata: ["dossier": "\(id)", "operator": "\(session.name)"])
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
    }

    struct Edit: Decodable {
        var body: String
    }

    /// Replays a letter whose body the operator changed: signed by the console's key (the
    /// sender's signature covered the old body), marked with who edited it, and recorded in the
    /// audit log with the body before and after.
    func replayEdited(_ id: Int64, body edited: String, _ context: ConsoleContext) async throws -> Response {
        guard let session = context.session, session.role == .operator_ else {
            throw HTTPError(.forbidden, message: "a viewer takes no action")
        }
        guard let signer else { throw HTTPError(.conflict, message: "no signingKey in the console's configuration: edits cannot be signed") }
        guard let data = edited.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) != nil else {
            throw HTTPError(.badRequest, message: "the edited body is not JSON")
        }
        guard let letter = try archive.letter(id), letter.status == .waiting, let (original, origin) = try archive.message(id) else {
            throw HTTPError(.notFound, message: "no waiting dead letter \(id)")
        }
        var message = original.asFirstSent(coreUser: coreUser)
        message.body = Array(data)
        message.properties.headers?[BusHeader.editedBy] = .string(session.name)
        message.properties.headers?[BusHeader.keyID] = nil
        message.properties.headers?[BusHeader.signature] = nil
        let signed = try signer.sign(message).forwarded(byCore: coreUser)
        try await replay(signed, origin)
        try archive.mark(id, status: .replayed)
        let record = try ActionRecord(
            action: "replayed after an edit", deadLetter: id, messageId: letter.messageId, type: letter.type, to: origin,
            before: letter.body, after: edited
        ).encoded()
        try audit.append(
            kind: .operatorAction, messageID: UUID().uuidString.lowercased(), type: "operator.dead-letter.edited-and-replayed",
            sender: session.name, receivers: [origin], correlationID: letter.correlationId, body: record, signature: "")
        logger.info("dead letter edited and replayed", metadata: ["id": "\(id)", "operator": "\(session.name)"])
        return try json(["replayed": [id]])
    }

    // MARK: Helpers

    /// The row with the commune its code is now, when a reorganisation replaced it.
    func withCommune(_ row: CoreDataReader.DossierRow, at now: Date = Date()) -> CoreDataReader.DossierRow {
        var row = row
        let current = communes.current(row.communeCode, at: now)
        row.communeNow = current == row.communeCode ? nil : current
        return row
    }

    /// Operators, and officers who take a citizen's fee at the counter, see personal data; viewers do not.
    func seesPersonalData(_ context: ConsoleContext) -> Bool {
        context.session.map { [.operator_, .officer].contains($0.role) } ?? false
    }

    func masked(_ row: CoreDataReader.DossierRow, for context: ConsoleContext) -> CoreDataReader.DossierRow {
        guard !seesPersonalData(context) else { return row }
        var row = row
        row.applicantName = "***"
        row.applicantPersonalId = PersonalDataMask.personalID(row.applicantPersonalId)
        row.procedureName = PersonalDataMask.text(row.procedureName)
        return row
    }

    func masked(_ letter: DeadLetterArchive.Letter, for context: ConsoleContext) -> DeadLetterArchive.Letter {
        // An officer needs the dossiers at the counter, not the dead letters.
        guard context.session?.role != .operator_ else { return letter }
        var letter = letter
        // A reason can quote the body (a schema error, an adapter's message): its values go too.
        let values = PersonalDataMask.personalValues(ofBody: letter.body)
        letter.body = PersonalDataMask.body(letter.body)
        letter.reason = PersonalDataMask.text(letter.reason, hiding: values)
        letter.check = PersonalDataMask.text(letter.check, hiding: values)
        letter.correlationId = PersonalDataMask.text(letter.correlationId, hiding: values)
        letter.messageId = PersonalDataMask.text(letter.messageId, hiding: values)
        letter.sender = PersonalDataMask.text(letter.sender, hiding: values)
        return letter
    }

    func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
