import SQLKit

extension SQLStore {
    public func insertRegistrationKey(_ record: RegistrationKeyRecord, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.insert(into: "registration_keys")
                .columns("key", "sealed", "created_by", "generated_at", "expires_at")
                .values(
                    SQLBind(record.key),
                    SQLBind(record.sealed),
                    SQLBind(record.createdBy),
                    SQLBind(record.generatedAt),
                    SQLBind(record.expiresAt)
                )
                .ignoringConflicts(with: "key").returning("key").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func insertRegistrationKeys(
        count: Int,
        generate: @Sendable (Int) throws -> [RegistrationKeyRecord],
        audit: AuditEvent
    ) async throws -> [RegistrationKeyRecord]? {
        struct Incomplete: Error {}
        do {
            return try await provider.transaction { db in
                var inserted: [RegistrationKeyRecord] = []
                for _ in 0..<16 where inserted.count < count {
                    var batch: [String: RegistrationKeyRecord] = [:]
                    for record in try generate(count - inserted.count) { batch[record.key] = record }
                    let stored = try await db.insert(into: "registration_keys")
                        .columns("key", "sealed", "created_by", "generated_at", "expires_at")
                        .rows(
                            batch.values.map {
                                [SQLBind($0.key), SQLBind($0.sealed), SQLBind($0.createdBy), SQLBind($0.generatedAt), SQLBind($0.expiresAt)]
                                    as [any SQLExpression]
                            }
                        )
                        .ignoringConflicts(with: "key").returning("key").all()
                    for row in stored { if let record = batch[try row.decode(column: "key", as: String.self)] { inserted.append(record) } }
                }
                guard inserted.count == count else { throw Incomplete() }
                try await insertAudit([audit], on: db)
                return inserted
            }
        } catch is Incomplete {
            return nil
        }
    }

    public func activeRegistrationKeys(createdBy: String, now: Int64) async throws -> [RegistrationKeyRecord] {
        try await provider.read { db in
            try await db.select().columns(Self.keyColumns)
                .from("registration_keys").where("created_by", .equal, createdBy)
                .where(SQLColumn("spent_at"), .is, SQLLiteral.null).where(SQLColumn("revoked_at"), .is, SQLLiteral.null)
                .where("expires_at", .greaterThan, now).orderBy("generated_at").orderBy("key")
                .all().map(Self.keyRecord)
        }
    }

    public func revokeRegistrationKey(_ key: String, createdBy: String, now: Int64, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.update("registration_keys").set("revoked_at", to: now)
                .where("key", .equal, key).where("created_by", .equal, createdBy)
                .where(SQLColumn("spent_at"), .is, SQLLiteral.null).where(SQLColumn("revoked_at"), .is, SQLLiteral.null)
                .where("expires_at", .greaterThan, now).returning("key").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func keyEncryptionFingerprint(claiming fingerprint: String) async throws -> String {
        try await provider.transaction { db in
            try await db.insert(into: "registry_settings").columns("name", "value")
                .values(SQLBind("key_encryption_fingerprint"), SQLBind(fingerprint)).ignoringConflicts(with: "name").run()
            return try await db.select().column("value").from("registry_settings").where("name", .equal, "key_encryption_fingerprint")
                .first(decodingColumn: "value", as: String.self) ?? fingerprint
        }
    }

    public func sealPlaintextRegistrationKeys(_ seal: @Sendable (String) throws -> (lookup: String, sealed: String)) async throws -> Int {
        try await provider.transaction { db in
            let plaintext = try await db.select().column("key").from("registration_keys").where(SQLColumn("sealed"), .is, SQLLiteral.null)
                .all(decodingColumn: "key", as: String.self)
            for key in plaintext {
                let (lookup, sealed) = try seal(key)
                try await db.update("registration_keys").set("key", to: lookup).set("sealed", to: sealed).where("key", .equal, key).run()
                try await db.update("devices").set("registration_key", to: lookup).where("registration_key", .equal, key).run()
            }
            return plaintext.count
        }
    }

    static let keyColumns = ["key", "sealed", "created_by", "generated_at", "expires_at", "spent_at", "spent_by", "revoked_at"]

    static func keyRecord(_ row: any SQLRow) throws -> RegistrationKeyRecord {
        RegistrationKeyRecord(
            key: try row.decode(column: "key", as: String.self),
            sealed: try row.decode(column: "sealed", as: String?.self) ?? "",
            createdBy: try row.decode(column: "created_by", as: String.self),
            generatedAt: try row.decode(column: "generated_at", as: Int64.self),
            expiresAt: try row.decode(column: "expires_at", as: Int64.self),
            spentAt: try row.decode(column: "spent_at", as: Int64?.self),
            spentBy: try row.decode(column: "spent_by", as: String?.self),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self)
        )
    }
}
