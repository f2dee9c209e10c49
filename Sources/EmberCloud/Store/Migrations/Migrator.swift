import SQLKit

/// Applies pending migrations in order, each in its own transaction, and records them. Every migration transaction
/// first takes the migration lock and reads the version again, so instances starting at once on one PostgreSQL
/// apply each migration exactly once (the others wait, then find it applied).
struct Migrator: Sendable {
    let provider: any DatabaseProvider

    /// The highest migration recorded in the database (0 for a new one).
    func currentVersion() async throws -> Int {
        try await locked { db in try await version(db) }
    }

    /// The applied migrations, in order.
    func applied() async throws -> [(version: Int, name: String, appliedAt: Int64)] {
        _ = try await currentVersion()
        return try await provider.read { db in
            try await db.raw("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").all().map {
                (
                    try $0.decode(column: "version", as: Int.self), try $0.decode(column: "name", as: String.self),
                    try $0.decode(column: "applied_at", as: Int64.self)
                )
            }
        }
    }

    /// Applies what is missing; refuses a database newer than this build. Returns the versions this call applied.
    @discardableResult
    func migrate(now: Int64) async throws -> [Int] {
        let current = try await currentVersion()
        guard current <= Migrations.latest else { throw StoreError.schemaTooNew(found: current, known: Migrations.latest) }
        var applied: [Int] = []
        for migration in Migrations.all where migration.version > current {
            let statements = migration.statements(provider.dialect)
            let didApply = try await locked { db in
                // Another instance may have applied it while this one waited for the lock.
                guard try await version(db) < migration.version else { return false }
                for statement in statements {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.insert(into: "schema_migrations").columns("version", "name", "applied_at")
                    .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(now)).run()
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }

    /// A transaction holding the migration lock.
    private func locked<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let lock = SQLDialectSpecifics.migrationLock(provider.dialect)
        return try await provider.transaction { db in
            if let lock { try await db.raw(SQLQueryString(lock)).run() }
            return try await body(db)
        }
    }

    /// The recorded version, creating the table on a new database (inside the locked transaction).
    private func version(_ db: any SQLDatabase) async throws -> Int {
        try await db.raw(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        ).run()
        let row = try await db.raw("SELECT MAX(version) AS version FROM schema_migrations").first()
        return try row?.decodeNil(column: "version") == false ? row?.decode(column: "version", as: Int.self) ?? 0 : 0
    }
}
