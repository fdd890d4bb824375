import Foundation
import GovBusContracts

/// A dossier as the public-service portal pushes it, in the National Public Service Portal's
/// synchronisation format (field names in Vietnamese, times as yyyyMMddHHmmss in Hanoi time).
struct PortalDossier: Codable, Sendable {
    struct Attachment: Codable, Sendable {
        var TenTepDinhKem: String
        var LoaiTep: String
        var KichThuoc: Int
        var MaBam: String
        var DuongDanTaiTepTin: String
    }

    struct Fee: Codable, Sendable {
        var MaPhiLePhi: String
        var TenPhiLePhi: String
        var SoTien: Int
    }

    var MaHoSo: String
    var MaTTHC: String
    var TenTTHC: String
    var MaDonVi: String
    var TenDonVi: String
    var MaXa: String
    var MaTinh: String
    var ChuHoSo: String
    var SoGiayTo: String
    /// yyyyMMdd.
    var NgaySinh: String
    var DiaChi: String
    var SoDienThoai: String
    var Email: String?
    var NgayTiepNhan: String
    /// "online" or "truc-tiep" (at the counter).
    var KenhNop: String?
    var TaiLieuNop: [Attachment]
    var DanhSachLePhi: [Fee]

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// The bus message it stands for; throws naming the field that cannot be converted.
    func submitted() throws -> DossierSubmittedV1 {
        guard let receivedAt = PortalTime.parse(NgayTiepNhan) else {
            throw Invalid(description: "NgayTiepNhan must be yyyyMMddHHmmss, not '\(NgayTiepNhan)'")
        }
        guard NgaySinh.count == 8, let year = Int(NgaySinh.prefix(4)), let month = Int(NgaySinh.dropFirst(4).prefix(2)),
            let day = Int(NgaySinh.suffix(2))
        else { throw Invalid(description: "NgaySinh must be yyyyMMdd, not '\(NgaySinh)'") }
        let attachments = try TaiLieuNop.map { file in
            guard let url = URL(string: file.DuongDanTaiTepTin) else {
                throw Invalid(description: "TaiLieuNop: '\(file.DuongDanTaiTepTin)' is not a URL")
            }
            return AttachedDocument(
                name: file.TenTepDinhKem, mediaType: file.LoaiTep, size: file.KichThuoc, sha256: file.MaBam, retrievalUrl: url)
        }
        return DossierSubmittedV1(
            dossierId: MaHoSo, procedure: Procedure(code: MaTTHC, name: TenTTHC),
            receivingAgency: Agency(code: MaDonVi, name: TenDonVi), communeCode: MaXa,
            applicant: Applicant(
                personalId: SoGiayTo, fullName: ChuHoSo, dateOfBirth: CivilDate(year: year, month: month, day: day),
                phone: SoDienThoai, email: Email,
                address: Address(line: DiaChi, communeCode: MaXa, provinceCode: MaTinh)),
            submittedAt: receivedAt, channel: KenhNop == "truc-tiep" ? .counter : .online, attachedDocuments: attachments,
            feeItems: DanhSachLePhi.map { FeeItem(code: $0.MaPhiLePhi, name: $0.TenPhiLePhi, amount: $0.SoTien) })
    }
}

/// The portal's times: yyyyMMddHHmmss in Asia/Ho_Chi_Minh.
enum PortalTime {
    static func parse(_ text: String) -> Date? {
        HanoiClock.date(fromCompact: text)
    }

    static func format(_ date: Date) -> String {
        HanoiClock.compact(date)
    }
}
