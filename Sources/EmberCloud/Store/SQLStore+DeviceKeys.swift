import EmberCore
import Foundation
import SQLKit

extension SQLStore {
    public func submitKey(uuid: String, epoch: Int, publicKey: String, now: Int64, audit: AuditEvent) async throws -> KeySubmissionOutcome {
        try await provider.transaction { db in
            let active = try await db.raw(
                "SELECT MAX(epoch) AS epoch FROM device_keys WHERE uuid = \(bind: uuid) AND state = 'active'"
            ).first()
            let expected = (try active?.decode(column: "epoch", as: Int?.self) ?? 0) + 1
            guard epoch == expected else { return .wrongEpoch(expected: expected) }
            let outcome: KeySubmissionOutcome
            if let existing = try await db.select().column("public_key").from("device_keys").where("uuid", .equal, uuid)
                .where("epoch", .equal, epoch).first()
            {
                // Above the active epoch a key can only be pending.
                guard try existing.decode(column: "public_key", as: String.self) != publicKey else { return .same }
                try await db.update("device_keys").set("public_key", to: publicKey).set("created_at", to: now)
                    .where("uuid", .equal, uuid).where("epoch", .equal, epoch).where("state", .equal, KeyState.pending.rawValue).run()
                outcome = .replaced
            } else {
                try await db.insert(into: "device_keys").columns("uuid", "epoch", "public_key", "state", "created_at")
                    .values(SQLBind(uuid), SQLBind(epoch), SQLBind(publicKey), SQLBind(KeyState.pending.rawValue), SQLBind(now)).run()
                outcome = .created
            }
            try await insertAudit([audit], on: db)
            return outcome
        }
    }

    public func promoteKey(uuid: String, epoch: Int, publicKey: String, now: Int64) async throws -> Bool {
        try await provider.transaction { db in
            // One statement: the pending key becomes active and the active one retired, or nothing changes (the key was
            // replaced or promoted meanwhile).
            let changed = try await db.raw(
                """
                UPDATE device_keys SET
                    state = CASE WHEN epoch = \(bind: epoch) THEN 'active' ELSE 'retired' END,
                    activated_at = CASE WHEN epoch = \(bind: epoch) THEN \(bind: now) ELSE activated_at END,
                    retired_at = CASE WHEN epoch = \(bind: epoch) THEN NULL ELSE \(bind: now) END
                WHERE uuid = \(bind: uuid) AND (state = 'active' OR epoch = \(bind: epoch))
                AND EXISTS (SELECT 1 FROM device_keys p WHERE p.uuid = \(bind: uuid) AND p.epoch = \(bind: epoch)
                    AND p.state = 'pending' AND p.public_key = \(bind: publicKey))
                RETURNING epoch
                """
            ).all()
            guard !changed.isEmpty else { return false }
            try await insertAudit(
                [
                    AuditEvent(
                        at: now,
                        by: AuditActor(actor: "device:\(uuid)", client: "registry"),
                        action: "key.activated",
                        subject: uuid,
                        detail: "epoch \(epoch); earlier keys retired"
                    )
                ],
                on: db
            )
            return true
        }
    }

    public func deviceKeys(uuid: String) async throws -> [DeviceKeyInfo] {
        try await provider.read { db in
            try await db.select().columns("epoch", "public_key", "state", "created_at", "activated_at", "retired_at").from("device_keys")
                .where("uuid", .equal, uuid).orderBy("epoch").all().map { row in
                    guard let state = KeyState(rawValue: try row.decode(column: "state", as: String.self)) else {
                        throw StoreError.corruptRow("key state")
                    }
                    return DeviceKeyInfo(
                        epoch: try row.decode(column: "epoch", as: Int.self),
                        publicKey: try row.decode(column: "public_key", as: String.self),
                        state: state,
                        createdAt: try row.decode(column: "created_at", as: Int64.self),
                        activatedAt: try row.decode(column: "activated_at", as: Int64?.self),
                        retiredAt: try row.decode(column: "retired_at", as: Int64?.self)
                    )
                }
        }
    }
}
