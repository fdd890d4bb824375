import Foundation
public import GovBusAdapterKit
import GovBusContracts
import HTTPTypes
public import Hummingbird
import NIOCore
import NIOFoundationCompat
import PortalAPI

/// The public-service portal's adapter. The portal pushes dossiers to `POST /portal/dossiers`
/// (HMAC-signed); each becomes a `portal.dossier.submitted.v1`, stored in the outbox before the
/// portal hears "received". Every status change the core sends goes back to the portal's
/// progress API (`POST {system}/api/progress`), signed the same way.
///
/// Settings: `hmacSecret` (shared with the portal), `handlerName` (NguoiXuLy, the name the
/// portal shows as who handled a step).
public struct PortalConnector: Connector {
    let runtime: AdapterRuntime
    let secret: String
    let handlerName: String
    let portal: ExternalSystem

    public init(runtime: AdapterRuntime) throws {
        self.runtime = runtime
        secret = try runtime.configuration.setting("hmacSecret")
        handlerName = runtime.configuration.settings["handlerName"] ?? "Hệ thống GovBus"
        portal = runtime.externalSystem(named: "the portal", policy: HTTPPolicy(timeout: .seconds(10)))
    }

    public var handlers: MessageHandlers {
        MessageHandlers().on(DossierStatusChangedV1.self, report)
    }

    // MARK: Dossiers from the portal

    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/portal/dossiers") { request, _ -> Response in
            let body = Data(buffer: try await request.body.collect(upTo: 1 << 20))
            return try await receive(body, signature: request.headers[HTTPField.Name(PortalSignature.header)!])
        }
    }

    /// The portal's answer: `{"ErrorCode": 0, ...}` once the dossier is safe in the outbox; a
    /// 4xx with the reason when it is refused (nothing stored).
    func receive(_ body: Data, signature: String?) async throws -> Response {
        guard PortalSignature.isValid(signature, for: body, secret: secret) else {
            return Self.answer(.unauthorized, code: 401, "chữ ký không hợp lệ (X-Portal-Signature): invalid signature")
        }
        let dossier: PortalDossier
        do {
            dossier = try JSONDecoder().decode(PortalDossier.self, from: body)
        } catch {
            return Self.answer(.badRequest, code: 400, "malformed dossier: \(Self.describe(error))")
        }
        do {
            let submitted = try dossier.submitted()
            // The same dossier pushed twice goes out once: its message id follows from its code.
            let stored = try await runtime.send(
                submitted, correlationID: submitted.dossierId,
                messageID: runtime.derivedID("portal-submitted", submitted.dossierId))
            return Self.answer(
                .ok, code: 0, stored ? "đã tiếp nhận" : "đã tiếp nhận trước đó", dossier: dossier.MaHoSo)
        } catch let error as PortalDossier.Invalid {
            return Self.answer(.badRequest, code: 400, error.description)
        } catch let error as AdapterRuntime.InvalidMessage {
            return Self.answer(.badRequest, code: 400, error.reason)
        }
    }

    static func answer(_ status: HTTPResponse.Status, code: Int, _ message: String, dossier: String? = nil) -> Response {
        var object: [String: Any] = ["ErrorCode": code, "Message": message]
        if let dossier { object["MaHoSo"] = dossier }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "field \(key.stringValue) is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: "\(error)"
        }
    }

    // MARK: Status changes to the portal

    /// Sends a status change to the portal's progress API.
    func report(_ change: DossierStatusChangedV1, _ message: InboxMessage) async throws {
        let body = try JSONEncoder().encode(PortalProgress(change, handler: handlerName))
        let request = OutboundRequest(
            url: runtime.configuration.system.appendingPathComponent("api/progress").absoluteString,
            headers: [
                ("Content-Type", "application/json; charset=utf-8"), (PortalSignature.header, PortalSignature.sign(body, secret: secret)),
            ],
            body: body)
        _ = try await portal.send(request, for: message)
    }
}
