import Foundation
import GovBusContracts

/// A status change as the portal's progress API takes it (MaHoSo, TrangThai, NoiDungXuLy,
/// NguoiXuLy, ThoiDiemXuLy), with the links the citizen follows: the payment page, the result.
struct PortalProgress: Codable, Sendable, Hashable {
    var MaHoSo: String
    /// The portal's status code (see `code(of:)`).
    var TrangThai: String
    /// What happened, in words a citizen reads.
    var NoiDungXuLy: String
    var NguoiXuLy: String
    var ThoiDiemXuLy: String
    /// The bus's own status name, so that nothing is lost in the mapping.
    var TrangThaiGovBus: String
    var DuongDanThanhToan: String?
    var DuongDanKetQua: String?

    init(_ change: DossierStatusChangedV1, handler: String) {
        MaHoSo = change.dossierId
        TrangThai = Self.code(of: change.status)
        NoiDungXuLy = Self.text(of: change)
        NguoiXuLy = handler
        ThoiDiemXuLy = PortalTime.format(change.at)
        TrangThaiGovBus = change.status.rawValue
        DuongDanThanhToan = change.paymentLink?.absoluteString
        DuongDanKetQua = change.resultLink?.absoluteString
    }

    /// The portal's codes: 1 received, 2 being handled, 3 waiting for the citizen's payment,
    /// 4 result ready, 5 returned to the citizen, 6 refused, 7 refunded, 8 held for an official.
    static func code(of status: DossierStatusChangedV1.Status) -> String {
        switch status {
        case .submitted: "1"
        case .identityVerified, .feePaid: "2"
        case .feeRequested: "3"
        case .documentIssued: "4"
        case .completed: "5"
        case .rejected: "6"
        case .refunded: "7"
        case .needsAttention: "8"
        }
    }

    static func text(of change: DossierStatusChangedV1) -> String {
        let base =
            switch change.status {
            case .submitted: "Hồ sơ đã được tiếp nhận"
            case .identityVerified: "Đã xác thực danh tính người nộp"
            case .feeRequested: "Chờ thanh toán lệ phí"
            case .feePaid: "Đã thanh toán lệ phí"
            case .documentIssued: "Đã ban hành kết quả"
            case .completed: "Hoàn thành, đã trả kết quả"
            case .rejected: "Hồ sơ bị từ chối"
            case .refunded: "Đã hoàn lệ phí"
            case .needsAttention: "Hồ sơ đang chờ cán bộ xử lý"
            }
        guard let reason = change.reason else { return base }
        return "\(base): \(reason.message)"
    }
}
