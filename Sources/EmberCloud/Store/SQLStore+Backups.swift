import EmberCore
import Foundation
import SQLKit

extension SQLStore {
    public func storeBackup(uuid: String, blob: Data, etag: String, ifNoneMatch: String?, now: Int64) async throws -> BackupStoreOutcome {
        try await provider.transaction { db in
            if let ifNoneMatch {
                let stored = try await db.select().column("etag").from("backups").where("uuid", .equal, uuid).first()
                if let stored, try stored.decode(column: "etag", as: String.self) == ifNoneMatch { return .notModified }
            }
            try await db.insert(into: "backups")
                .columns("uuid", "blob", "etag", "size", "stored_at")
                .values(SQLBind(uuid), SQLBind(blob), SQLBind(etag), SQLBind(Int64(blob.count)), SQLBind(now))
                .onConflict(with: ["uuid"]) { conflict in
                    conflict.set(excludedValueOf: "blob").set(excludedValueOf: "etag").set(excludedValueOf: "size")
                        .set(excludedValueOf: "stored_at")
                }
                .run()
            return .stored(at: now)
        }
    }

    public func backup(uuid: String) async throws -> StoredBackup? {
        try await provider.read { db -> StoredBackup? in
            guard let row = try await db.select().columns("blob", "etag", "size", "stored_at").from("backups").where("uuid", .equal, uuid).first()
            else { return nil }
            return StoredBackup(blob: try row.decode(column: "blob", as: Data.self), info: try Self.backupInfo(row))
        }
    }

    public func backupInfo(uuid: String) async throws -> BackupInfo? {
        try await provider.read { db in
            try await db.select().columns("etag", "size", "stored_at").from("backups").where("uuid", .equal, uuid).first().map(Self.backupInfo)
        }
    }

    public func deleteBackup(uuid: String, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let deleted = try await db.delete(from: "backups").where("uuid", .equal, uuid).returning("uuid").first() != nil
            if deleted { try await insertAudit([audit], on: db) }
            return deleted
        }
    }

    static func backupInfo(_ row: any SQLRow) throws -> BackupInfo {
        BackupInfo(
            etag: try row.decode(column: "etag", as: String.self),
            size: try row.decode(column: "size", as: Int64.self),
            lastBackupDate: try row.decode(column: "stored_at", as: Int64.self)
        )
    }
}
