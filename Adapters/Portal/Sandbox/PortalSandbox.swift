import AsyncHTTPClient
import Crypto
public import Foundation
import GovBusContracts
public import GovBusSandboxKit
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
import NIOFoundationCompat
import PortalAPI

/// A stand-in for the public-service portal: it takes progress updates as the portal's API does,
/// keeps each dossier's history and serves it, submits sample dossiers to the adapter, and (as
/// the citizen would) opens the payment page a fee request links to.
///
/// - `POST /api/progress`: a progress update (HMAC-signed, `X-Portal-Signature`).
/// - `GET /api/dossiers/:id/history`: the updates of a dossier, in order.
/// - `POST /_sandbox/submit` `{"count": 100, "paidShare": 0.5, "mismatchShare": 0.1}`: submits
///   that many dossiers to the adapter, each in a trace of its own (`traceparent`); answers the
///   batch id and what the adapter said.
/// - `GET /_sandbox/batches/:batch`: each dossier of a batch with its last status.
public enum PortalSandbox {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var dataDirectory: URL
        /// Where the adapter takes dossiers: `http://127.0.0.1:8081/portal/dossiers`.
        public var adapterURL: String
        public var hmacSecret: String
        /// The citizen's pause before opening a payment link.
        public var clickDelay: Duration
        /// Where the citizen's browser finds a gateway's public payment page here (a local
        /// sandbox stands in for it): public base URL to local base URL.
        public var paymentPages: [String: String]

        public init(
            host: String = "127.0.0.1", port: Int = 9081, dataDirectory: URL, adapterURL: String, hmacSecret: String,
            clickDelay: Duration = .milliseconds(100), paymentPages: [String: String] = [:]
        ) {
            self.paymentPages = paymentPages
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.adapterURL = adapterURL
            self.hmacSecret = hmacSecret
            self.clickDelay = clickDelay
        }
    }

    public static func application(options: Options, faults: SandboxFaults, logger: Logger) async throws -> some ApplicationProtocol {
        Application(
            router: try router(options: options, faults: faults, logger: logger),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "portal-sandbox"),
            logger: logger)
    }

    static func router(options: Options, faults: SandboxFaults, logger: Logger) throws -> Router<BasicRequestContext> {
        try FileManager.default.createDirectory(at: options.dataDirectory, withIntermediateDirectories: true)
        let store = try ProgressStore(path: options.dataDirectory.appendingPathComponent("portal.sqlite").path)
        let samples = SampleDossiers(population: Population())
        let router = Router()
        router.get("/health") { _, _ in jsonObject(["status": "up"]) }
        faults.addRoutes(to: router)
        router.post("/_sandbox/submit") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let submit = try? JSONDecoder().decode(SampleDossiers.Request.self, from: Data(buffer: body)),
                (1...100_000).contains(submit.count)
            else { throw HTTPError(.badRequest, message: "expected {\"count\": 1...100000, \"paidShare\", \"mismatchShare\"}") }
            let batch = String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()
            let answers = try await submitAll(
                samples.make(submit, batch: batch, now: Date()), batch: batch, options: options, store: store,
                perSecond: submit.perSecond.flatMap { $0 > 0 ? $0 : nil })
            return jsonObject(["batch": batch, "submitted": answers.accepted, "refused": answers.refused])
        }
        router.get("/_sandbox/batches/:batch") { _, context -> Response in
            try SandboxResponse.json(store.summary(batch: try context.parameters.require("batch")))
        }
        router.get("/api/dossiers/:id/history") { _, context -> Response in
            try SandboxResponse.json(store.history(of: try context.parameters.require("id")))
        }
        let portal = router.group().add(middleware: faults.middleware())
        portal.post("/api/progress") { request, _ -> Response in
            let body = Data(buffer: try await request.body.collect(upTo: 64 * 1024))
            guard PortalSignature.isValid(request.headers[HTTPField.Name(PortalSignature.header)!], for: body, secret: options.hmacSecret) else {
                throw HTTPError(.unauthorized, message: "invalid X-Portal-Signature")
            }
            guard let update = try? JSONDecoder().decode(ProgressUpdate.self, from: body) else {
                throw HTTPError(.badRequest, message: "expected MaHoSo, TrangThai, NoiDungXuLy, NguoiXuLy, ThoiDiemXuLy")
            }
            try store.append(
                dossier: update.MaHoSo,
                ProgressStore.Update(
                    TrangThai: update.TrangThai, TrangThaiGovBus: update.TrangThaiGovBus ?? "", NoiDungXuLy: update.NoiDungXuLy,
                    NguoiXuLy: update.NguoiXuLy, ThoiDiemXuLy: update.ThoiDiemXuLy, NhanLuc: Date().timeIntervalSince1970))
            if let link = update.DuongDanThanhToan {
                // The citizen opens the payment page.
                Task {
                    try? await Task.sleep(for: options.clickDelay)
                    await openPaymentPage(locally(link, pages: options.paymentPages), logger: logger)
                }
            }
            return jsonObject(["ErrorCode": 0, "Message": "ok"])
        }
        return router
    }

    struct ProgressUpdate: Codable, Sendable {
        var MaHoSo: String
        var TrangThai: String
        var NoiDungXuLy: String
        var NguoiXuLy: String
        var ThoiDiemXuLy: String
        var TrangThaiGovBus: String?
        var DuongDanThanhToan: String?
    }

    static func locally(_ link: String, pages: [String: String]) -> String {
        for (publicBase, localBase) in pages where link.hasPrefix(publicBase) {
            return localBase + link.dropFirst(publicBase.count)
        }
        return link
    }

    /// As a citizen would: a page that fails to load is loaded again, a few times.
    static func openPaymentPage(_ link: String, logger: Logger) async {
        for attempt in 1...10 {
            do {
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: link), timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                if response.status.code < 500 {
                    if response.status.code >= 400 { logger.warning("the payment page answered \(response.status.code)") }
                    return
                }
            } catch {
                logger.warning("cannot open the payment page", metadata: ["link": "\(link)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(200 * attempt))
        }
    }

    /// Pushes the dossiers to the adapter, 16 at a time, signed as the portal signs.
    /// Pushes the dossiers to the portal adapter: 16 at a time, or `perSecond` evenly spaced
    /// (each recorded as submitted at its own push).
    static func submitAll(
        _ dossiers: [SampleDossiers.Sample], batch: String, options: Options, store: ProgressStore, perSecond: Double? = nil
    ) async throws -> (accepted: [String], refused: [String: String]) {
        var accepted: [String] = []
        var refused: [String: String] = [:]
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: (String, String?).self) { group in
            var next = 0
            func startOne() async throws {
                let sample = dossiers[next]
                if let perSecond {
                    try await Task.sleep(until: start + .seconds(Double(next) / perSecond), clock: .continuous)
                }
                next += 1
                try store.recordSubmitted(sample.dossierID, batch: batch, kind: sample.kind, at: Date())
                let body = sample.body
                group.addTask {
                    var request = HTTPClientRequest(url: options.adapterURL)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
                    request.headers.add(name: PortalSignature.header, value: PortalSignature.sign(body, secret: options.hmacSecret))
                    // The portal's own trace of the submission, which the bus's spans join.
                    request.headers.add(name: "traceparent", value: Self.newTraceparent())
                    request.body = .bytes(ByteBuffer(bytes: body))
                    do {
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                        let answer = String(buffer: try await response.body.collect(upTo: 64 * 1024))
                        return (sample.dossierID, response.status.code == 200 ? nil : "\(response.status.code): \(answer)")
                    } catch {
                        return (sample.dossierID, "\(error)")
                    }
                }
            }
            if perSecond != nil {
                // Paced: each push at its time, however many are still waiting for their answer.
                while next < dossiers.count { try await startOne() }
            } else {
                while next < min(16, dossiers.count) { try await startOne() }
            }
            while let (dossier, failure) = try await group.next() {
                if let failure { refused[dossier] = failure } else { accepted.append(dossier) }
                if perSecond == nil, next < dossiers.count { try await startOne() }
            }
        }
        return (accepted.sorted(), refused)
    }

    /// A W3C `traceparent` for a new trace, sampled: what the portal's tracing would send.
    static func newTraceparent() -> String {
        let traceID = (0..<16).map { _ in UInt8.random(in: 0...255) }.lowercaseHex
        let spanID = (0..<8).map { _ in UInt8.random(in: 0...255) }.lowercaseHex
        return "00-\(traceID)-\(spanID)-01"
    }

    static func jsonObject(_ value: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
