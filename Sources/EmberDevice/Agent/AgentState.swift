/// The registration status the agent holds in memory (`GET /api/registration`).
public enum RegistrationState: Equatable, Sendable {
    /// No check has run this session.
    case pending
    /// The last check (or registration) answered.
    case known(registered: Bool, checkedAt: Int64, cloudRoot: String)
    /// The last check failed with this message.
    case failed(message: String, checkedAt: Int64, cloudRoot: String)
}

/// Partition-table and peripheral checks of the current boot (`GET /api/checks`).
public struct CheckReport: Sendable, Codable, Equatable {
    public struct Section: Sendable, Codable, Equatable {
        public var passed: Bool
        public var problems: [String]
    }

    /// Both sections passed.
    public private(set) var passed: Bool
    public private(set) var partitions: Section
    public private(set) var peripherals: Section

    /// A report of the two sections.
    public init(partitions: Section, peripherals: Section) {
        self.passed = partitions.passed && peripherals.passed
        self.partitions = partitions
        self.peripherals = peripherals
    }
}
