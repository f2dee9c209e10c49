import SQLKit

extension SQLStore {
    public func createAdminToken(name: String, role: AdminRole, accountID: String?, hash: String, audit: AuditEvent) async throws {
        try await provider.transaction { db in
            let existing = try await db.select().column("name").from("admin_tokens").where("name", .equal, name).first()
            guard existing == nil else { throw StoreError.duplicateName(name) }
            let reused = try await db.select().column("name").from("admin_tokens").where("token_hash", .equal, hash).first()
            guard reused == nil else { throw StoreError.duplicateTokenValue }
            if let accountID, try await db.select().column("id").from("accounts").where("id", .equal, accountID).first() == nil {
                throw StoreError.unknownAccount(accountID)
            }
            try await db.insert(into: "admin_tokens").columns("name", "role", "token_hash", "created_at", "account_id")
                .values(SQLBind(name), SQLBind(role.rawValue), SQLBind(hash), SQLBind(audit.at), SQLBind(accountID)).run()
            try await insertAudit([audit], on: db)
        }
    }

    public func adminToken(hash: String) async throws -> AdminTokenRecord? {
        try await provider.read { db in
            try await db.select().columns("name", "role", "created_at", "revoked_at", "account_id").from("admin_tokens")
                .where("token_hash", .equal, hash).where("revoked_at", .is, SQLLiteral.null)
                .first(decoding: AdminTokenRecord.self)
        }
    }

    public func adminTokens() async throws -> [AdminTokenRecord] {
        try await provider.read { db in
            try await db.select().columns("name", "role", "created_at", "revoked_at", "account_id").from("admin_tokens")
                .orderBy("created_at").orderBy("name").all(decoding: AdminTokenRecord.self)
        }
    }

    public func revokeAdminToken(name: String, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.update("admin_tokens").set("revoked_at", to: audit.at)
                .where("name", .equal, name).where("revoked_at", .is, SQLLiteral.null).returning("name").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func hasActiveAdminToken() async throws -> Bool {
        try await provider.read { db in
            try await db.select().column("name").from("admin_tokens").where("role", .equal, AdminRole.admin.rawValue)
                .where("revoked_at", .is, SQLLiteral.null).limit(1).first() != nil
        }
    }
}
