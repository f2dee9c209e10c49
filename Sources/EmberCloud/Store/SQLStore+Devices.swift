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
    static let registrationColumns = [
        "uuid", "product_id", "product_hex", "device_class", "public_key", "registering_application", "registering_version",
        "mcu", "network", "partitions", "registration_date", "registered_by", "registration_key", "region", "fleet_id",
        "firmware_version", "factory_test",
    ]

    public func register(
        _ registration: DeviceRegistration,
        key: RegistrationKeyReference,
        now: Int64,
        by actor: AuditActor
    ) async throws
        -> RegistrationOutcome
    {
        let uuid = DeviceUUID.format(registration.uuid)
        let row = try DeviceRow(registration)

        // Another transaction may insert the same UUID with another key between our check and our insert (PostgreSQL
        // runs them in parallel): then this one rolls back, un-spending its key, and is decided again.
        for _ in 0..<3 {
            do {
                return try await registerOnce(
                    row,
                    key: key,
                    now: now,
                    by: actor
                )
            } catch is ConcurrentRegistration {
                continue
            }
        }
        throw StoreError.contended("the registration of \(uuid)")
    }

    /// Another transaction stored the same UUID (or serial) between this one's check and its insert.
    struct ConcurrentRegistration: Error {}

    /// A registration's values as the `devices` row stores them.
    struct DeviceRow: Sendable {
        let registration: DeviceRegistration
        let uuid: String
        let publicKey: String
        let mcu: String
        let network: String
        let partitions: String
        let factoryTest: String?

        init(_ registration: DeviceRegistration) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            self.registration = registration
            uuid = DeviceUUID.format(registration.uuid)
            publicKey = registration.publicKey.base64
            mcu = String(decoding: try encoder.encode(registration.mcu), as: UTF8.self)
            network = String(decoding: try encoder.encode(registration.network), as: UTF8.self)
            partitions = String(decoding: try encoder.encode(registration.partitions), as: UTF8.self)
            factoryTest = try registration.manufacturing.factoryTest.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        }
    }

    /// Inserts the device and its epoch-0 key; throws `ConcurrentRegistration` when the UUID was taken meanwhile.
    func insertDevice(_ row: DeviceRow, registeredBy: String, registrationKey: String, now: Int64, on db: any SQLDatabase) async throws {
        let registration = row.registration
        let manufacturing = registration.manufacturing
        let inserted = try await db.insert(into: "devices")
            .columns(Self.registrationColumns)
            .values(
                SQLBind(row.uuid),
                SQLBind(registration.productID),
                SQLBind(registration.productHex.description),
                SQLBind(registration.deviceClass),
                SQLBind(row.publicKey),
                SQLBind(registration.registeringApplication),
                SQLBind(registration.registeringVersion),
                SQLBind(row.mcu),
                SQLBind(row.network),
                SQLBind(row.partitions),
                SQLBind(now),
                SQLBind(registeredBy),
                SQLBind(registrationKey),
                SQLBind(manufacturing.region),
                SQLBind(manufacturing.fleetID),
                SQLBind(manufacturing.firmwareVersion),
                SQLBind(row.factoryTest)
            ).ignoringConflicts(with: "uuid").returning("uuid").first()
        guard inserted != nil else { throw ConcurrentRegistration() }
        try await db.insert(into: "device_keys").columns("uuid", "epoch", "public_key", "state", "created_at", "activated_at")
            .values(SQLBind(row.uuid), SQLBind(0), SQLBind(row.publicKey), SQLBind(KeyState.active.rawValue), SQLBind(now), SQLBind(now)).run()
    }

    private func registerOnce(
        _ row: DeviceRow,
        key reference: RegistrationKeyReference,
        now: Int64,
        by actor: AuditActor
    ) async throws -> RegistrationOutcome {
        let (uuid, publicKey, registration) = (row.uuid, row.publicKey, row.registration)
        let key = reference.lookup
        return try await provider.transaction { db in
            func usableKey(_ query: some SQLPredicateBuilder) {
                _ = query.where("key", .equal, key).where(SQLColumn("spent_at"), .is, SQLLiteral.null)
                    .where(SQLColumn("revoked_at"), .is, SQLLiteral.null).where("expires_at", .greaterThan, now)
            }
            let check = db.select().column("created_by").from("registration_keys")
            usableKey(check)
            guard try await check.first() != nil else {
                // A retry after a lost reply: this very device (same UUID and key) already spent the key.
                let own = try await db.raw(
                    """
                    SELECT d.public_key, d.decommissioned_at FROM registration_keys k JOIN devices d ON d.uuid = k.spent_by
                    WHERE k.key = \(bind: key) AND k.spent_by = \(bind: uuid)
                    """
                ).first()
                guard let own, try own.decode(column: "public_key", as: String.self) == publicKey else { return .invalidKey }
                return try own.decodeNil(column: "decommissioned_at") ? .alreadyRegistered : .decommissioned
            }

            // The idempotency check compares with the epoch-0 key (`devices.public_key`) and changes nothing, so a
            // retired key is never reactivated.
            if let existing = try await db.select().columns("public_key", "decommissioned_at").from("devices").where("uuid", .equal, uuid)
                .first()
            {
                if try !existing.decodeNil(column: "decommissioned_at") { return .decommissioned }
                let stored = try existing.decode(column: "public_key", as: String.self)
                return stored == publicKey ? .alreadyRegistered : .conflictingPublicKey
            }

            let spend = db.update("registration_keys").set("spent_at", to: now).set("spent_by", to: uuid)
            usableKey(spend)
            guard let spent = try await spend.returning("created_by").first() else { return .invalidKey }
            let mintedBy = try spent.decode(column: "created_by", as: String.self)

            try await insertDevice(row, registeredBy: mintedBy, registrationKey: key, now: now, on: db)
            try await insertAudit(
                [
                    AuditEvent(
                        at: now,
                        by: actor,
                        action: "device.registered",
                        subject: uuid,
                        detail: "product \(registration.productHex) with key \(reference.masked) minted by \(mintedBy)"
                    )
                ],
                on: db
            )
            return .registered
        }
    }

    public func device(uuid: String) async throws -> DeviceRecord? {
        try await provider.read { db in
            try await db.raw("SELECT \(Self.deviceSelection) FROM devices d WHERE d.uuid = \(bind: uuid)").first().map(Self.deviceRecord)
        }
    }

    public func deviceCredential(uuid: String, countingOpenActions: Bool) async throws -> DeviceCredential? {
        var credential = try await credentials.submit(uuid)
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

    public func markSignsV2(uuid: String, at: Int64) async throws {
        try await provider.write { db in
            try await db.update("devices").set("signs_v2_since", to: at).where("uuid", .equal, uuid)
                .where(SQLColumn("signs_v2_since"), .is, SQLLiteral.null).run()
        }
    }

    public func recordCheckIns(_ checkIns: [String: LastCheckIn]) async throws {
        guard !checkIns.isEmpty else { return }
        try await provider.transaction { db in
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
