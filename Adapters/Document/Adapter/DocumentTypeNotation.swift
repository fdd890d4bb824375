import GovBusContracts

/// How each kind of document is written in edXML when a people's committee (UBND) issues it.
extension DocumentType {
    /// The notation (ký hiệu) after the number, e.g. 125/QĐ-UBND: the kind's abbreviation and the
    /// issuing organ's. An official letter (công văn) carries the organ and the drafting office.
    var codeNotation: String {
        switch self {
        case .decision: "QĐ-UBND"
        case .certificate: "GCN-UBND"
        case .permit: "GP-UBND"
        case .civilStatusExtract: "TLKS-UBND"
        case .confirmation: "GXN-UBND"
        case .notice: "TB-UBND"
        case .officialLetter: "UBND-VP"
        }
    }

    /// The number of the kind in edXML:DocumentType/Type, as this bus and its document system agree.
    var edXMLTypeCode: String {
        switch self {
        case .decision: "1"
        case .certificate: "2"
        case .permit: "3"
        case .civilStatusExtract: "4"
        case .confirmation: "5"
        case .notice: "6"
        case .officialLetter: "7"
        }
    }

    /// The kind's name as printed on the document and in edXML:DocumentType/TypeName.
    var vietnameseName: String {
        switch self {
        case .decision: "Quyết định"
        case .certificate: "Giấy chứng nhận"
        case .permit: "Giấy phép"
        case .civilStatusExtract: "Trích lục hộ tịch"
        case .confirmation: "Giấy xác nhận"
        case .notice: "Thông báo"
        case .officialLetter: "Công văn"
        }
    }
}
