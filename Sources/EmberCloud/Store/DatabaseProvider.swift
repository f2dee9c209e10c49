import SQLKit

/// The SQL flavours the store runs on; every dialect difference is decided in `SQLDialectSpecifics`.
public enum SQLDialectKind: Sendable {
    case sqlite
    case postgres
}

/// The one seam between the store and the database drivers.
///
/// Reads see only committed data; `transaction` runs its body atomically and one at a time.
public protocol DatabaseProvider: Sendable {
    var dialect: SQLDialectKind { get }
    /// Runs read-only statements.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs one statement that is atomic by itself (no explicit transaction: one round trip on PostgreSQL).
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Closes every connection; the provider is unusable afterwards.
    func close() async throws
    /// Where the data lives, for the start-up line (no credentials).
    var location: String { get }
    /// Whether this process is the database's only writer while it is open (SQLite opened by `ember serve`, which holds
    /// its lock file), so what the store reads may be kept in memory until the store itself writes.
    var exclusive: Bool { get }
}
