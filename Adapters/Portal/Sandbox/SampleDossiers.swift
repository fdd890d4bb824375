import Crypto
import Foundation
import GovBusContracts
import GovBusSandboxKit

/// Dossiers the portal sandbox submits in citizens' names: a mix of a paid procedure and a free
/// one, and a share whose applicant's name differs from the registry's (an identity mismatch).
struct SampleDossiers {
    struct Request: Codable, Sendable {
        var count: Int
        /// 0 to 1: the share of dossiers for the paid procedure (2.000720; the rest 1.001193).
        var paidShare: Double?
        /// 0 to 1: the share whose applicant's name does not match the registry.
        var mismatchShare: Double?
        var seed: UInt64?
        /// Dossiers pushed per second, evenly spaced (nil: as fast as 16 pushes at a time allow).
        var perSecond: Double?
    }

    struct Sample: Sendable {
        let dossierID: String
        let kind: String
        /// The dossier in the portal's JSON.
        let body: Data
    }

    let population: Population

    func make(_ request: Request, batch: String, now: Date) -> [Sample] {
        var random = SplitMix64(seed: request.seed ?? UInt64.random(in: 0...UInt64.max))
        let paidShare = request.paidShare ?? 0.5
        let mismatchShare = request.mismatchShare ?? 0
        let received = Self.portalTime(now)
        return (0..<request.count).map { index in
            let citizen = population.citizen(Int(random.next() % UInt64(population.size)))
            let paid = Double(random.next() % 10_000) / 10_000 < paidShare
            let mismatch = Double(random.next() % 10_000) / 10_000 < mismatchShare
            let dossierID = "G01.DEMO-\(batch)-\(String(format: "%06d", index + 1))"
            var name = citizen.fullName
            if mismatch { name = name.split(separator: " ").dropLast().joined(separator: " ") + " Khác" }
            let birth = String(format: "%04d%02d%02d", citizen.year, citizen.month, citizen.day)
            let file = Data("Đơn đăng ký của \(citizen.fullName), hồ sơ \(dossierID)".utf8)
            var body: [String: Any] = [
                "MaHoSo": dossierID, "MaDonVi": paid ? "000.00.04.H01" : "000.22.99.H56",
                "TenDonVi": paid ? "UBND phường Ba Đình" : "UBND phường Ngọc Hà", "MaXa": citizen.communeCode, "MaTinh": "01",
                "ChuHoSo": name, "SoGiayTo": citizen.personalId, "NgaySinh": birth,
                "DiaChi": "Số \(index % 200 + 1) phố Đội Cấn", "SoDienThoai": citizen.phone, "NgayTiepNhan": received,
                "KenhNop": "online",
                "TaiLieuNop": [
                    [
                        "TenTepDinhKem": "don-dang-ky.pdf", "LoaiTep": "application/pdf", "KichThuoc": file.count,
                        "MaBam": SHA256.hash(data: file).lowercaseHex,
                        "DuongDanTaiTepTin": "https://dichvucong.gov.vn/tep/\(dossierID)/don-dang-ky.pdf",
                    ]
                ],
            ]
            if paid {
                body["MaTTHC"] = "2.000720"
                body["TenTTHC"] = "Đăng ký thành lập hộ kinh doanh"
                body["DanhSachLePhi"] = [["MaPhiLePhi": "LP-DKHKD", "TenPhiLePhi": "Lệ phí đăng ký hộ kinh doanh", "SoTien": 50000]]
            } else {
                body["MaTTHC"] = "1.001193"
                body["TenTTHC"] = "Đăng ký khai sinh"
                body["DanhSachLePhi"] = [[String: Any]]()
            }
            let kind = mismatch ? "identity-mismatch" : (paid ? "paid" : "free")
            return Sample(
                dossierID: dossierID, kind: kind,
                body: (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())
        }
    }

    static func portalTime(_ date: Date) -> String {
        HanoiClock.compact(date)
    }
}
