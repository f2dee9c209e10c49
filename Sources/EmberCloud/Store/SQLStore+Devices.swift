import EmberCore
import Foundation
import SQLKit

extension SQLStore {
    static let deviceColumns = [
        "uuid", "product_id", "product_hex", "device_class", "public_key", "registering_application", "registering_version",
        "mcu", "network", "partitions", "registration_date", "registered_by", "decommissioned_at", "last_seen_at", "firmware_version",
        "config_version", "config_hash", "reported_state", "uptime_s", "region", "fleet_id", "factory_test", "owner_account", "claimed_at",
    ]
    /// The device columns and the active key's epoch, for `SELECT … FROM devices d`.
    static var deviceSelection: SQLQueryString {
        let columns = deviceColumns.map { "d.\($0)" }.joined(separator: ", ")
        return SQLQueryString(
            "\(unsafeRaw: columns), (SELECT MAX(k.epoch) FROM device_keys k WHERE k.uuid = d.uuid AND k.state = 'active') AS key_epoch"
        )
    }
    /// The columns a registration writes, in the order of its values.
    public func device(uuid: String) async throws -> DeviceRecord? {
        try await provider.read { db in
            try await db.raw("SELECT \(Self.deviceSelection) FROM devices d WHERE d.uuid = \(bind: uuid)").first().map(Self.deviceRecord)
        }
    }

    public func deviceCredential(uuid: String, countingOpenActions: Bool) async throws -> DeviceCredential? {
        var credential: DeviceCredential?
        if let cache = cachedCredentials {
            if let hit = cache.credential(uuid) {
                credential = hit
            } else {
                let generation = cache.generation
                credential = try await credentials.submit(uuid)
                if let credential { cache.keep([uuid: credential], readIn: generation) }
            }
        } else {
            credential = try await credentials.submit(uuid)
        }
        if !countingOpenActions { credential?.hasOpenActions = nil }
        return credential
    }

    /// The credentials of `uuids` (distinct) in one statement: the devices' keys that are not retired, their status, and
    /// whether actions wait for them. Devices the registry does not know are missing from the answer.
    static func deviceCredentials(_ uuids: [String], on db: any SQLDatabase) async throws -> [String: DeviceCredential] {
        guard !uuids.isEmpty else { return [:] }
        let rows = try await db.select()
            .columns(
                [
                    "uuid", "decommissioned_at", "signs_v2_since", "product_id", "product_hex", "device_class", "registration_date",
                    "registering_application", "registering_version",
                ].map { SQLColumn($0, table: "d") } + ["epoch", "public_key", "state"].map { SQLColumn($0, table: "k") }
            )
            .column(
                SQLAlias(
                    SQLRaw("EXISTS (SELECT 1 FROM device_actions a WHERE a.uuid = d.uuid AND a.state IN ('pending', 'delivered'))"),
                    as: SQLIdentifier("open_actions")
                )
            )
            .from(SQLAlias(SQLIdentifier("devices"), as: SQLIdentifier("d")))
            .join(
                SQLAlias(SQLIdentifier("device_keys"), as: SQLIdentifier("k")),
                on: SQLBinaryExpression(
                    SQLBinaryExpression(SQLColumn("uuid", table: "k"), .equal, SQLColumn("uuid", table: "d")),
                    .and,
                    SQLBinaryExpression(SQLColumn("state", table: "k"), .notEqual, SQLLiteral.string(KeyState.retired.rawValue))
                )
            )
            .where(SQLColumn("uuid", table: "d"), .in, SQLGroupExpression(uuids.map { SQLBind($0) }))
            .orderBy(SQLColumn("epoch", table: "k"))
            .all()
        var credentials: [String: DeviceCredential] = [:]
        for row in rows {
            let uuid = try row.decode(column: "uuid", as: String.self)
            let key = DeviceCredential.Key(
                epoch: try row.decode(column: "epoch", as: Int.self),
                publicKey: try row.decode(column: "public_key", as: String.self),
                pending: try row.decode(column: "state", as: String.self) == KeyState.pending.rawValue
            )
            if credentials[uuid] != nil {
                credentials[uuid]?.keys.append(key)
                continue
            }
            var credential = DeviceCredential(
                uuid: uuid,
                keys: [key],
                decommissionedAt: try row.decode(column: "decommissioned_at", as: Int64?.self),
                productID: try row.decode(column: "product_id", as: String.self),
                productHex: try row.decode(column: "product_hex", as: String.self),
                deviceClass: try row.decode(column: "device_class", as: String.self),
                registrationDate: try row.decode(column: "registration_date", as: Int64.self),
                registeringApplication: try row.decode(column: "registering_application", as: String.self),
                registeringVersion: try row.decode(column: "registering_version", as: String.self)
            )
            credential.signsV2Since = try row.decode(column: "signs_v2_since", as: Int64?.self)
            credential.hasOpenActions = try row.decode(column: "open_actions", as: Bool.self)
            credentials[uuid] = credential
        }
        return credentials
    }

    /// Marks the devices of fresh nonces as signing v2, inside the nonces' transaction: one statement per distinct
    /// time (a batch spans a second or two), and a device already marked keeps its first time.
    static func markSignsV2(_ marks: [SeenNonce], on db: any SQLDatabase) async throws {
        for (at, group) in Dictionary(grouping: marks, by: \.now).sorted(by: { $0.key < $1.key }) {
            try await db.raw(
                """
                UPDATE devices SET signs_v2_since = \(bind: at)
                WHERE uuid IN (\(binds: Array(Set(group.map(\.device))))) AND signs_v2_since IS NULL
                """
            ).run()
        }
    }

    public func recordCheckIns(_ checkIns: [String: LastCheckIn]) async throws {
        guard !checkIns.isEmpty else { return }
        // What a device reports is not part of its credential: a fleet's check-ins (flushed every second) keep the
        // credential cache.
        try await credentialNeutral.transaction { db in
            for (uuid, checkIn) in checkIns.sorted(by: { $0.key < $1.key }) {
                let report = checkIn.report
                let update = db.update("devices").set("last_seen_at", to: checkIn.at)
                    .set("config_version", to: report.configVersion).set("config_hash", to: report.configHash)
                    .set("reported_state", to: report.state).set("uptime_s", to: report.uptimeS)
                // A report without a version keeps the registration's.
                if let version = report.firmwareVersion { _ = update.set("firmware_version", to: version) }
                try await update.where("uuid", .equal, uuid).run()
            }
        }
    }

    public func recordDecommissionNotice(uuid: String, actionID: Int64?, audit: AuditEvent) async throws -> Int64? {
        try await provider.transaction { db in
            guard let row = try await db.select().column("decommissioned_at").from("devices").where("uuid", .equal, uuid).first() else {
                return nil
            }
            var events = [audit]
            let at: Int64
            if let existing = try row.decode(column: "decommissioned_at", as: Int64?.self) {
                at = existing
            } else {
                at = audit.at
                events += try await decommission(uuid: uuid, now: audit.at, by: audit.by, on: db)
            }
            if let actionID {
                try await db.update("device_actions").set("state", to: ActionState.done.rawValue).set("completed_at", to: audit.at)
                    .set("detail", to: "decommissioned")
                    .where("id", .equal, actionID).where("uuid", .equal, uuid).where("type", .equal, ActionType.decommission.rawValue)
                    .where("state", .in, [ActionState.pending.rawValue, ActionState.delivered.rawValue]).run()
            }
            try await insertAudit(events, on: db)
            return at
        }
    }

    /// Sets `decommissioned_at` (write-once), cancels the open actions and deletes the backup; returns the audit rows
    /// of what it removed. Runs inside the caller's transaction.
    func decommission(uuid: String, now: Int64, by actor: AuditActor, on db: any SQLDatabase) async throws -> [AuditEvent] {
        // Decommissioning releases the device from its account too (lifecycle §7).
        try await db.update("devices").set("decommissioned_at", to: now).set("owner_account", to: SQLLiteral.null)
            .set("claimed_at", to: SQLLiteral.null).where("uuid", .equal, uuid).where(SQLColumn("decommissioned_at"), .is, SQLLiteral.null).run()
        try await db.update("device_actions").set("state", to: ActionState.cancelled.rawValue).set("completed_at", to: now)
            .set("detail", to: "cancelled: the device was decommissioned").where("uuid", .equal, uuid)
            .where("state", .in, [ActionState.pending.rawValue, ActionState.delivered.rawValue]).run()
        let deleted = try await db.delete(from: "backups").where("uuid", .equal, uuid).returning("uuid").first() != nil
        return deleted ? [AuditEvent(at: now, by: actor, action: "backup.deleted", subject: uuid, detail: "device decommissioned")] : []
    }
}
