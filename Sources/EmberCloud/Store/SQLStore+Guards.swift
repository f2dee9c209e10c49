import SQLKit

extension SQLStore {
    public var isShared: Bool { provider.dialect == .postgres }

    public func recordNonce(device: String, nonce: String, expiresAt: Int64, now: Int64) async throws -> Bool {
        // Concurrent requests share one statement: on SQLite one commit and fsync, on PostgreSQL one round trip.
        try await nonces.submit(SeenNonce(device: device, nonce: nonce, expiresAt: expiresAt, now: now))
    }

    /// One batch of nonces in one statement: whether each is fresh. A nonce repeated within the batch is fresh only the
    /// first time; the earliest clock of the batch decides what has expired, so no nonce is given up early.
    static func recordNonces(_ batch: [SeenNonce], on provider: any DatabaseProvider) async throws -> [Bool] {
        var firsts: [SeenNonce] = []
        var seen = Set<SeenNonce>()
        for nonce in batch where seen.insert(nonce).inserted { firsts.append(nonce) }
        let rows = firsts
        let now = batch.map(\.now).min() ?? 0
        let fresh = try await provider.write { db in try await recordNonces(rows, now: now, on: db) }
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

    public func reserveRegistrationAttempt(
        client: String,
        attempt: String,
        at: Int64,
        since: Int64,
        limit: Int
    ) async throws
        -> StoredReservation
    {
        try await provider.transaction { db in
            // SQLite runs one write transaction at a time; PostgreSQL instances wait here for this client's lock.
            if let lock = SQLDialectSpecifics.keyLock(provider.dialect, key: "ember-failures " + client) { try await db.raw(lock).run() }
            // One statement counts both, so a confirmation committing in between cannot be missed by one count and
            // seen by the other.
            let row = try await db.raw(
                """
                SELECT COALESCE(SUM(CASE WHEN in_flight = 1 THEN 0 ELSE 1 END), 0) AS failures,
                COALESCE(SUM(CASE WHEN in_flight = 1 THEN 1 ELSE 0 END), 0) AS in_flight,
                MIN(CASE WHEN in_flight = 1 THEN NULL ELSE at END) AS oldest
                FROM registration_failures WHERE client = \(bind: client) AND at > \(bind: since)
                """
            ).first()
            let failures = try row?.decode(column: "failures", as: Int.self) ?? 0
            let inFlight = try row?.decode(column: "in_flight", as: Int.self) ?? 0
            guard failures < limit else { return .blocked(failures: failures, oldest: try row?.decode(column: "oldest", as: Int64?.self)) }
            guard failures + inFlight < limit else { return .busy }
            try await db.insert(into: "registration_failures").columns("client", "at", "attempt", "in_flight")
                .values(SQLBind(client), SQLBind(at), SQLBind(attempt), SQLBind(1)).run()
            return .granted
        }
    }

    public func confirmRegistrationAttempt(attempt: String) async throws {
        try await provider.write { db in
            try await db.update("registration_failures").set("in_flight", to: 0).where("attempt", .equal, attempt).run()
        }
    }

    public func releaseRegistrationAttempt(attempt: String) async throws {
        try await provider.write { db in
            try await db.delete(from: "registration_failures").where("attempt", .equal, attempt).run()
        }
    }

    public func registrationFailures(client: String, since: Int64) async throws -> (count: Int, oldest: Int64?) {
        try await provider.read { db in try await Self.failures(client: client, since: since, on: db) }
    }

    /// Failures only: rows from before attempts were reserved have no `in_flight` and are failures.
    private static func failures(client: String, since: Int64, on db: any SQLDatabase) async throws -> (count: Int, oldest: Int64?) {
        guard
            let row = try await db.raw(
                """
                SELECT COUNT(*) AS failures, MIN(at) AS oldest FROM registration_failures
                WHERE client = \(bind: client) AND at > \(bind: since) AND (in_flight IS NULL OR in_flight = 0)
                """
            ).first()
        else { return (0, nil) }
        return (try row.decode(column: "failures", as: Int.self), try row.decode(column: "oldest", as: Int64?.self))
    }

    public func purgeGuards(now: Int64, failuresBefore: Int64) async throws {
        try await provider.transaction { db in
            try await db.raw("DELETE FROM seen_nonces WHERE expires_at < \(bind: now)").run()
            try await db.raw("DELETE FROM registration_failures WHERE at <= \(bind: failuresBefore)").run()
            try await db.raw("DELETE FROM console_sessions WHERE expires_at < \(bind: now)").run()
        }
    }
}
