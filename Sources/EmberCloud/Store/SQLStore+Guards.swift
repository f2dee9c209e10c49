import SQLKit

extension SQLStore {
    public var isShared: Bool { provider.dialect == .postgres }

    public func recordNonce(device: String, nonce: String, expiresAt: Int64, now: Int64, marksSignsV2: Bool) async throws -> Bool {
        // Concurrent requests share one statement: on SQLite one commit and fsync, on PostgreSQL one round trip.
        try await nonces.submit(SeenNonce(device: device, nonce: nonce, expiresAt: expiresAt, now: now, marksSignsV2: marksSignsV2))
    }

    /// One batch of nonces in one statement: whether each is fresh. A nonce repeated within the batch is fresh only the
    /// first time; the earliest clock of the batch decides what has expired, so no nonce is given up early. A batch
    /// with v2 marks runs in one transaction on `marking` (which empties the credential cache), others on `provider`.
    static func recordNonces(
        _ batch: [SeenNonce],
        live: LiveNonces?,
        on provider: any DatabaseProvider,
        marking: any DatabaseProvider
    ) async throws -> [Bool] {
        var firsts: [SeenNonce] = []
        var seen = Set<SeenNonce>()
        for nonce in batch where seen.insert(nonce).inserted { firsts.append(nonce) }
        let rows = firsts
        let now = batch.map(\.now).min() ?? 0
        let fresh: Set<SeenNonce>
        if let live {
            fresh = try await recordNonces(rows, now: now, live: live, on: provider, marking: marking)
        } else if SQLDialectSpecifics.noncesInMemory(provider.dialect) {
            // The log has no key to decide by: without the lock, another process may hold live nonces this one never saw.
            throw StoreError.unsupportedDatabase("seen nonces are recorded only by the ember serve that holds the SQLite file's lock")
        } else if rows.contains(where: \.marksSignsV2) {
            fresh = try await marking.transaction { db in
                let fresh = try await recordNonces(rows, now: now, on: db)
                try await markSignsV2(rows.filter { $0.marksSignsV2 && fresh.contains($0) }, on: db)
                return fresh
            }
        } else {
            fresh = try await provider.write { db in try await recordNonces(rows, now: now, on: db) }
        }
        var answered = Set<SeenNonce>()
        return batch.map { fresh.contains($0) && answered.insert($0).inserted }
    }

    /// One statement records many nonces (none repeated): a new row, or an expired one taken over, is returned; a live
    /// one is not. Returns the fresh ones.
    static func recordNonces(_ nonces: [SeenNonce], now: Int64, on db: any SQLDatabase) async throws -> Set<SeenNonce> {
        guard !nonces.isEmpty else { return [] }
        let rows = try await db.insert(into: "seen_nonces").columns("device", "nonce", "expires_at")
            .rows(nonces.map { [SQLBind($0.device), SQLBind($0.nonce), SQLBind($0.expiresAt)] as [any SQLExpression] })
            .onConflict(with: ["device", "nonce"]) { update in
                update.set(excludedValueOf: "expires_at").where(SQLColumn("expires_at", table: "seen_nonces"), .lessThan, SQLBind(now))
            }
            .returning("device", "nonce").all()
        return Set(
            try rows.map {
                SeenNonce(device: try $0.decode(column: "device", as: String.self), nonce: try $0.decode(column: "nonce", as: String.self))
            }
        )
    }

    public func purgeGuards(now: Int64, failuresBefore: Int64) async throws {
        try await provider.transaction { db in
            try await db.raw("DELETE FROM seen_nonces WHERE expires_at < \(bind: now)").run()
            try await db.raw("DELETE FROM registration_failures WHERE at <= \(bind: failuresBefore)").run()
            try await db.raw("DELETE FROM console_sessions WHERE expires_at < \(bind: now)").run()
        }
        liveNonces?.removeExpired(before: now)
    }
}
