import EmberCore
import SQLKit

extension SQLStore {
    public func createAccount(_ account: Account, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.insert(into: "accounts").columns("id", "name", "created_at", "created_by")
                .values(
                    SQLBind(account.id),
                    SQLBind(account.name),
                    SQLBind(account.createdAt ?? audit.at),
                    SQLBind(account.createdBy ?? audit.by.actor)
                )
                .ignoringConflicts().returning("id").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func accounts() async throws -> [Account] {
        try await provider.read { db in
            try await db.select().columns("id", "name", "created_at", "created_by").from("accounts").orderBy("name").all(decoding: Account.self)
        }
    }

    public func account(id: String) async throws -> Account? {
        try await provider.read { db in
            try await db.select().columns("id", "name", "created_at", "created_by").from("accounts").where("id", .equal, id)
                .first(decoding: Account.self)
        }
    }

    public func insertClaimToken(hash: String, account: String, createdBy: String, expiresAt: Int64, audit: AuditEvent) async throws {
        try await provider.transaction { db in
            try await db.insert(into: "claim_tokens").columns("token_hash", "account_id", "created_by", "created_at", "expires_at")
                .values(SQLBind(hash), SQLBind(account), SQLBind(createdBy), SQLBind(audit.at), SQLBind(expiresAt)).run()
            try await insertAudit([audit], on: db)
        }
    }

    public func claim(uuid: String, tokenHash: String, now: Int64, by actor: AuditActor) async throws -> ClaimOutcome {
        // Two accounts' claims of one device may both pass the owner check: the loser rolls back (its token
        // unspent) and is decided again.
        for _ in 0..<3 {
            do {
                return try await claimOnce(uuid: uuid, tokenHash: tokenHash, now: now, by: actor)
            } catch is ConcurrentRegistration {
                continue
            }
        }
        throw StoreError.contended("the claim of \(uuid)")
    }

    private func claimOnce(uuid: String, tokenHash: String, now: Int64, by actor: AuditActor) async throws -> ClaimOutcome {
        try await provider.transaction { db in
            guard
                let token = try await db.select().columns("account_id", "spent_by", "expires_at").from("claim_tokens")
                    .where("token_hash", .equal, tokenHash).first()
            else { return .invalidToken }
            let account = try token.decode(column: "account_id", as: String.self)
            let owner = try await db.select().column("owner_account").from("devices").where("uuid", .equal, uuid).first()
                .flatMap { try $0.decode(column: "owner_account", as: String?.self) }
            // A retry after a lost reply: this device spent this token already.
            if try token.decode(column: "spent_by", as: String?.self) == uuid && owner == account { return .alreadyOwned(account: account) }
            if let owner, owner != account { return .ownedByAnother }
            if owner == account { return .alreadyOwned(account: account) }
            // One conditional statement spends the token: of racing claims exactly one gets a row back.
            let spent = try await db.update("claim_tokens").set("spent_at", to: now).set("spent_by", to: uuid)
                .where("token_hash", .equal, tokenHash).where(SQLColumn("spent_at"), .is, SQLLiteral.null).where("expires_at", .greaterThan, now)
                .returning("account_id").first()
            guard spent != nil else { return .invalidToken }
            let bound = try await db.update("devices").set("owner_account", to: account).set("claimed_at", to: now)
                .where("uuid", .equal, uuid).where(SQLColumn("owner_account"), .is, SQLLiteral.null).returning("uuid").first()
            guard bound != nil else { throw ConcurrentRegistration() }
            try await insertAudit(
                [AuditEvent(at: now, by: actor, action: "device.claimed", subject: uuid, detail: "bound to account \(account)")],
                on: db
            )
            return .claimed(account: account)
        }
    }

    public func releaseOwner(uuid: String, account: String?, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let update = db.update("devices").set("owner_account", to: SQLLiteral.null).set("claimed_at", to: SQLLiteral.null)
                .where("uuid", .equal, uuid).where(SQLColumn("owner_account"), .isNot, SQLLiteral.null)
            if let account { update.where("owner_account", .equal, account) }
            guard try await update.returning("uuid").first() != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }
}
