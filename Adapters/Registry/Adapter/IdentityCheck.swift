import Foundation
import GovBusContracts

/// What the registry holds about a citizen, checked: a real date, a known e-ID level.
struct RegisteredIdentity: Sendable, Hashable {
    let fullName: String
    let dateOfBirth: CivilDate
    /// 1 or 2 (VNeID level).
    let eIdLevel: Int
}

/// The answer to a verification request, from the registry's record: verified when the declared
/// full name and date of birth are the registry's, rejected otherwise.
enum IdentityCheck {
    enum Answer: Sendable, Hashable {
        case verified(IdentityVerifiedV1)
        case rejected(IdentityRejectedV1)
    }

    /// `registered` is nil when the registry does not know the personal id.
    static func answer(
        to request: IdentityVerificationRequestedV1, registered: RegisteredIdentity?, at now: Date
    ) -> Answer {
        guard let registered else {
            return .rejected(
                IdentityRejectedV1(
                    dossierId: request.dossierId, personalId: request.personalId, result: .notFound, rejectedAt: now,
                    reason: Reason(code: "identity-not-found", message: notFoundMessage)))
        }
        let mismatched = mismatchedFields(of: request, against: registered)
        guard mismatched.isEmpty else {
            return .rejected(
                IdentityRejectedV1(
                    dossierId: request.dossierId, personalId: request.personalId, result: .mismatch,
                    mismatchedFields: mismatched, rejectedAt: now,
                    reason: Reason(code: "identity-mismatch", message: mismatchMessage(mismatched))))
        }
        return .verified(
            IdentityVerifiedV1(
                dossierId: request.dossierId, personalId: request.personalId, eIdLevel: registered.eIdLevel,
                verifiedAt: now))
    }

    static func mismatchedFields(
        of request: IdentityVerificationRequestedV1, against registered: RegisteredIdentity
    ) -> [IdentityRejectedV1.Field] {
        var fields: [IdentityRejectedV1.Field] = []
        if comparableName(request.fullName) != comparableName(registered.fullName) { fields.append(.fullName) }
        if request.dateOfBirth != registered.dateOfBirth { fields.append(.dateOfBirth) }
        return fields
    }

    /// A name as the check compares it: Unicode NFC (a portal may send "ễ" as e + two combining
    /// marks), lower case, words separated by one space.
    static func comparableName(_ name: String) -> String {
        name.precomposedStringWithCanonicalMapping.lowercased()
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// For the citizen, in Vietnamese.
    private static let notFoundMessage =
        "Không tìm thấy công dân có số định danh cá nhân này trong Cơ sở dữ liệu quốc gia về dân cư."

    /// For the citizen, in Vietnamese: which declared data differ from the registry's.
    private static func mismatchMessage(_ fields: [IdentityRejectedV1.Field]) -> String {
        let what =
            switch (fields.contains(.fullName), fields.contains(.dateOfBirth)) {
            case (true, true): "Họ tên và ngày sinh"
            case (true, false): "Họ tên"
            default: "Ngày sinh"
            }
        return "\(what) khai báo không khớp với Cơ sở dữ liệu quốc gia về dân cư."
    }
}
