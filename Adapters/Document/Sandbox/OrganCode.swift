/// An organ's electronic identification code (mã định danh), e.g. 000.00.15.H01: one to five
/// groups of two or three digits or capital letters, joined by dots. It names the register a
/// document is numbered in, and is part of the document's address.
enum OrganCode {
    static func isValid(_ code: String) -> Bool {
        let groups = code.split(separator: ".", omittingEmptySubsequences: false)
        return (1...5).contains(groups.count)
            && groups.allSatisfy { group in
                (2...3).contains(group.count) && group.allSatisfy { $0.isASCII && ($0.isNumber || $0.isUppercase) }
            }
    }
}
