/// The citizens the sandboxes agree on: the registry holds them, the portal submits dossiers in
/// their names. Generated from a fixed seed, so every run and every sandbox sees the same people.
public struct Population: Sendable {
    public struct Citizen: Sendable, Hashable, Codable {
        /// 12 digits: province of birth (3), century and sex (1), year of birth (2), serial (6).
        public let personalId: String
        public let fullName: String
        public let year: Int
        public let month: Int
        public let day: Int
        /// 1 (basic) or 2 (verified in person) for VNeID.
        public let eIdLevel: Int
        public let phone: String
        public let communeCode: String
    }

    public let seed: UInt64
    public let size: Int

    public init(seed: UInt64 = 20_251_121, size: Int = 100_000) {
        self.seed = seed
        self.size = size
    }

    static let familyNames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
    static let middleNames = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Thu", "Gia", "Xuân", "Hoài"]
    static let givenNames = [
        "An", "Anh", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khoa",
        "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Ngọc", "Phong", "Phúc", "Quang", "Quỳnh", "Sơn", "Tâm", "Thảo",
        "Thắng", "Trang", "Trung", "Tuấn", "Vân", "Việt", "Yến",
    ]
    static let provinces = ["001", "031", "048", "079", "092", "036", "038", "040"]
    /// Communes of Hà Nội's Ba Đình district and a few others, as the procedures' agencies serve them.
    public static let communes = ["00001", "00004", "00006", "00007", "00008", "00010", "00013", "00016"]

    /// The citizen at `index` (0 ..< size).
    public func citizen(_ index: Int) -> Citizen {
        var random = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        let year = 1950 + Int(random.next() % 56)
        let male = random.next() % 2 == 0
        let centuryDigit = (year >= 2000 ? 2 : 0) + (male ? 0 : 1)
        let province = Self.provinces[Int(random.next() % UInt64(Self.provinces.count))]
        let serial = String(index).leftPadded(to: 6)
        let personalId = province + String(centuryDigit) + String(year % 100).leftPadded(to: 2) + serial
        let middle = male ? Self.middleNames.filter { $0 != "Thị" } : Self.middleNames
        let name = [
            Self.familyNames[Int(random.next() % UInt64(Self.familyNames.count))],
            middle[Int(random.next() % UInt64(middle.count))],
            Self.givenNames[Int(random.next() % UInt64(Self.givenNames.count))],
        ].joined(separator: " ")
        return Citizen(
            personalId: personalId, fullName: name, year: year, month: 1 + Int(random.next() % 12),
            day: 1 + Int(random.next() % 28), eIdLevel: random.next() % 5 == 0 ? 1 : 2,
            phone: "09" + String(random.next() % 100_000_000).leftPadded(to: 8),
            communeCode: Self.communes[Int(random.next() % UInt64(Self.communes.count))])
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? String(suffix(width)) : String(repeating: "0", count: width - count) + self
    }
}
