import Foundation
import GovBusContracts

/// The document the adapter asks the system to issue, as short UTF-8 text in the usual layout
/// of a Vietnamese administrative document. It depends on the request alone (its date is the
/// day of `requestedAt` in Vietnam), so a redelivered request sends the same bytes and the
/// digest the system kept the first time still matches.
enum DocumentText {
    static func render(_ request: DocumentIssueRequestedV1, place: String) -> Data {
        let date = VietnamCalendar.civilDate(of: request.requestedAt)
        let lines = [
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "",
            request.documentType.vietnameseName.uppercased(),
            // The system gives the number when it issues the document.
            "Số: ....../\(request.documentType.codeNotation)",
            "",
            "Trích yếu: \(request.subject)",
            "Hồ sơ: \(request.dossierId)",
            "Cơ quan ban hành: \(request.issuingOrganCode)",
            "Nơi nhận: \(request.recipientOrganCode)",
            "",
            "\(place), ngày \(twoDigits(date.day)) tháng \(twoDigits(date.month)) năm \(date.year)",
            "",
            request.signer.position.uppercased(),
            request.signer.name,
        ]
        return Data((lines.joined(separator: "\n") + "\n").utf8)
    }

    private static func twoDigits(_ number: Int) -> String {
        number < 10 ? "0\(number)" : "\(number)"
    }
}
