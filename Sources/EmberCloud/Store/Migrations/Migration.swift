/// One numbered schema change; never edited once it has landed.
struct Migration: Sendable {
    let version: Int
    let name: String
    let statements: @Sendable (SQLDialectKind) -> [String]
}

/// Every migration, in order.
enum Migrations {
    static let all: [Migration] = [
        m0001Initial, m0002SharedGuards, m0003Backups, m0004Lifecycle, m0005Manufacturing, m0006Security, m0007Console, m0008Onboarding,
        m0009Accounts,
        m0010PartialIndexes, m0011NonceLog,
    ]
    static var latest: Int { all.last?.version ?? 0 }
}
