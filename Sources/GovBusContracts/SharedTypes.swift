public import Foundation

/// The values several messages share (common.schema.json).

public struct Address: Codable, Sendable, Hashable {
    public var line: String
    public var communeCode: String
    public var provinceCode: String

    public init(line: String, communeCode: String, provinceCode: String) {
        self.line = line
        self.communeCode = communeCode
        self.provinceCode = provinceCode
    }
}

public struct Applicant: Codable, Sendable, Hashable {
    /// The 12-digit personal identification number.
    public var personalId: String
    public var fullName: String
    public var dateOfBirth: CivilDate
    public var phone: String
    public var email: String?
    public var address: Address

    public init(
        personalId: String, fullName: String, dateOfBirth: CivilDate, phone: String, email: String? = nil,
        address: Address
    ) {
        self.personalId = personalId
        self.fullName = fullName
        self.dateOfBirth = dateOfBirth
        self.phone = phone
        self.email = email
        self.address = address
    }
}

public struct Procedure: Codable, Sendable, Hashable {
    public var code: String
    public var name: String

    public init(code: String, name: String) {
        self.code = code
        self.name = name
    }
}

public struct Agency: Codable, Sendable, Hashable {
    public var code: String
    public var name: String

    public init(code: String, name: String) {
        self.code = code
        self.name = name
    }
}

public struct AttachedDocument: Codable, Sendable, Hashable {
    public var name: String
    public var mediaType: String
    public var size: Int
    public var sha256: String
    public var retrievalUrl: URL

    public init(name: String, mediaType: String, size: Int, sha256: String, retrievalUrl: URL) {
        self.name = name
        self.mediaType = mediaType
        self.size = size
        self.sha256 = sha256
        self.retrievalUrl = retrievalUrl
    }
}

public struct FeeItem: Codable, Sendable, Hashable {
    public var code: String
    public var name: String
    /// VND.
    public var amount: Int

    public init(code: String, name: String, amount: Int) {
        self.code = code
        self.name = name
        self.amount = amount
    }
}

/// Why something failed or was refused: a code for programs, a message for people.
public struct Reason: Codable, Sendable, Hashable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

public struct Signer: Codable, Sendable, Hashable {
    public var name: String
    public var position: String

    public init(name: String, position: String) {
        self.name = name
        self.position = position
    }
}

public struct BankAccount: Codable, Sendable, Hashable {
    public var bankCode: String
    public var accountNumber: String
    public var accountName: String

    public init(bankCode: String, accountNumber: String, accountName: String) {
        self.bankCode = bankCode
        self.accountNumber = accountNumber
        self.accountName = accountName
    }
}

public enum DocumentType: String, Codable, Sendable, Hashable, CaseIterable {
    case decision, certificate, permit, confirmation, notice
    case civilStatusExtract = "civil-status-extract"
    case officialLetter = "official-letter"
}
