import EmberCore
import Foundation
import SQLKit

/// The one `Store` implementation, over SQLKit; dialect differences live in `SQLDialectSpecifics`.
public struct SQLStore: Store {
    let provider: any DatabaseProvider
    /// The same database for writes that touch no column of a credential (seen nonces, check-ins), so they leave the
    /// credential cache as it is.
    let credentialNeutral: any DatabaseProvider
    /// Group commit of seen nonces: one statement per batch of concurrent requests (on PostgreSQL per instance; the
    /// shared table's primary key still decides across instances).
    let nonces: Coalescer<SeenNonce, Bool>
    /// Concurrent signed requests' credential reads, one statement per batch.
    let credentials: Coalescer<String, DeviceCredential?>
    /// Group commit of key registrations: concurrent ones share a transaction of multi-row statements.
    let registrations: Coalescer<KeyRegistration, RegistrationOutcome?>
    /// The failed-key counter's reservations, early checks and releases, batched the same way.
    let attempts: AttemptBatches
    /// SQLite's live nonces (the table is their log), held by the server that owns the file; nil on PostgreSQL and
    /// on a SQLite file opened without its lock, which then records no nonce.
    let liveNonces: LiveNonces?
    /// Credentials kept between signed checks, when this process is the database's only writer.
    let cachedCredentials: CredentialCache?

    public init(provider base: any DatabaseProvider) {
        let cache = base.exclusive ? CredentialCache() : nil
        // Every write but those through `credentialNeutral` ends by emptying the cache.
        let provider: any DatabaseProvider = cache.map { CacheInvalidatingProvider(base: base, cache: $0) } ?? base
        self.provider = provider
        self.credentialNeutral = base
        self.cachedCredentials = cache
        let live = SQLDialectSpecifics.noncesInMemory(base.dialect) && base.exclusive ? LiveNonces() : nil
        self.liveNonces = live
        // Nonces leave the cache as it is; a batch that marks devices as signing v2 changes their credentials.
        self.nonces = Coalescer { try await Self.recordNonces($0, live: live, on: base, marking: provider) }
        self.registrations = Coalescer { try await Self.registerBatch($0, on: provider) }
        self.attempts = AttemptBatches(provider: provider)
        self.credentials = Coalescer { uuids in
            let found = try await provider.read { db in try await Self.deviceCredentials(Array(Set(uuids)), on: db) }
            return uuids.map { found[$0] }
        }
    }

    public func migrate(now: Int64) async throws {
        try await Migrator(provider: provider).migrate(now: now)
    }

    public func migrationStatus() async throws -> [MigrationState] {
        let applied = try await Migrator(provider: provider).applied()
        let known = Migrations.all.map { migration in
            MigrationState(
                version: migration.version,
                name: migration.name,
                appliedAt: applied.first { $0.version == migration.version }?.appliedAt
            )
        }
        let unknown = applied.filter { row in !Migrations.all.contains { $0.version == row.version } }
            .map { MigrationState(version: $0.version, name: $0.name + " (unknown to this build)", appliedAt: $0.appliedAt) }
        return known + unknown
    }

    public func ping() async throws {
        _ = try await provider.read { db in try await db.raw("SELECT 1 AS one").first() }
    }

    public func close() async throws {
        try await provider.close()
    }

    public var location: String { provider.location }

    func insertAudit(_ events: [AuditEvent], on db: any SQLDatabase) async throws {
        try await Self.insertAudit(events, on: db)
    }

    static func insertAudit(_ events: [AuditEvent], on db: any SQLDatabase) async throws {
        guard !events.isEmpty else { return }
        try await db.insert(into: "audit_log").columns("at", "actor", "client", "action", "subject", "detail")
            .rows(
                events.map {
                    [SQLBind($0.at), SQLBind($0.by.actor), SQLBind($0.by.client), SQLBind($0.action), SQLBind($0.subject), SQLBind($0.detail)]
                        as [any SQLExpression]
                }
            )
            .run()
    }

    public func appendAudit(_ events: [AuditEvent]) async throws {
        try await provider.transaction { db in try await insertAudit(events, on: db) }
    }

    public func auditEntries(_ request: AuditQuery) async throws -> [AuditEntry] {
        try await provider.read { db in
            var query = db.select().columns("id", "at", "actor", "client", "action", "subject", "detail").from("audit_log")
            if let after = request.after { query = query.where("id", .greaterThan, after) }
            if let before = request.before { query = query.where("id", .lessThan, before) }
            if let action = request.action { query = query.where("action", .equal, action) }
            if let actor = request.actor { query = query.where("actor", .equal, actor) }
            return try await query.orderBy("id", request.newestFirst ? .descending : .ascending).limit(request.limit)
                .all(decoding: AuditEntry.self)
        }
    }
}
