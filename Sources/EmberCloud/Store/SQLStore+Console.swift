import SQLKit

extension SQLStore {
    public func createConsoleSession(_ session: ConsoleSessionRecord, audit: AuditEvent) async throws {
        try await provider.transaction { db in
            try await db.insert(into: "console_sessions").columns("id_hash", "token_name", "csrf", "created_at", "expires_at")
                .values(
                    SQLBind(session.idHash),
                    SQLBind(session.token.name),
                    SQLBind(session.csrf),
                    SQLBind(session.createdAt),
                    SQLBind(session.expiresAt)
                )
                .run()
            try await insertAudit([audit], on: db)
        }
    }

    public func consoleSession(idHash: String, now: Int64) async throws -> ConsoleSessionRecord? {
        let row = try await provider.read { db in
            try await db.raw(
                """
                SELECT s.csrf, s.created_at, s.expires_at, t.name, t.role, t.account_id, t.created_at AS token_created_at
                FROM console_sessions s JOIN admin_tokens t ON t.name = s.token_name
                WHERE s.id_hash = \(bind: idHash) AND s.revoked_at IS NULL AND s.expires_at > \(bind: now)
                AND t.revoked_at IS NULL
                """
            ).first()
        }
        guard let row else { return nil }
        return ConsoleSessionRecord(
            idHash: idHash,
            token: AdminTokenRecord(
                name: try row.decode(column: "name", as: String.self),
                role: try row.decode(column: "role", as: AdminRole.self),
                createdAt: try row.decode(column: "token_created_at", as: Int64.self),
                revokedAt: nil,
                accountID: try row.decode(column: "account_id", as: String?.self)
            ),
            csrf: try row.decode(column: "csrf", as: String.self),
            createdAt: try row.decode(column: "created_at", as: Int64.self),
            expiresAt: try row.decode(column: "expires_at", as: Int64.self)
        )
    }

    public func endConsoleSession(idHash: String, now: Int64, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.update("console_sessions").set("revoked_at", to: now)
                .where("id_hash", .equal, idHash).where("revoked_at", .is, SQLLiteral.null).returning("id_hash").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func productCounts() async throws -> [ProductCount] {
        try await provider.read { db in
            try await db.raw(
                """
                SELECT product_hex, MIN(product_id) AS product_id,
                SUM(CASE WHEN decommissioned_at IS NULL THEN 1 ELSE 0 END) AS registered,
                SUM(CASE WHEN decommissioned_at IS NULL THEN 0 ELSE 1 END) AS decommissioned
                FROM devices GROUP BY product_hex ORDER BY product_hex
                """
            ).all(decoding: ProductCount.self)
        }
    }

    public func registrationsPerDay(since: Int64) async throws -> [DayCount] {
        try await provider.read { db in
            try await db.raw(
                """
                SELECT registration_date / 86400 AS day, COUNT(*) AS count FROM devices
                WHERE registration_date >= \(bind: since) GROUP BY registration_date / 86400 ORDER BY day
                """
            ).all(decoding: DayCount.self)
        }
    }
}
