import EdXML
import Foundation
import Hummingbird

/// The document system refusing a package: 400 with an `edXML:Error` naming the problem, so the
/// sender can tell a bad request (never to be sent again) from an outage.
struct EdXMLRefusal: HTTPResponseError, CustomStringConvertible {
    /// `malformed-xml`, `missing-field`, `invalid-field` or `content-not-base64`.
    let code: String
    let description: String

    var status: HTTPResponse.Status { .badRequest }

    static func missing(_ element: String) -> EdXMLRefusal {
        EdXMLRefusal(code: "missing-field", description: "\(element) is missing or empty")
    }

    static func invalid(_ element: String, _ why: String) -> EdXMLRefusal {
        EdXMLRefusal(code: "invalid-field", description: "\(element) \(why)")
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let xml = try EdXMLCoding.encode(Body(errorCode: code, description: description), root: "Error")
        return Response(
            status: status, headers: [.contentType: "application/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: xml)))
    }

    private struct Body: Encodable {
        let errorCode: String
        let description: String

        enum CodingKeys: String, CodingKey {
            case errorCode = "ErrorCode"
            case description = "Description"
        }
    }
}
