import EmberCore
import Foundation
import SQLKit

/// Key registrations (FireFly's `POST /devices/register`): a batch of concurrent ones in one transaction of multi-row
/// statements (`registerBatch`), and one transaction per registration for what a batch does not decide.
extension SQLStore {
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
        // Concurrent registrations share one transaction of multi-row statements (one commit and fsync). What the
        // batch does not decide — a spent or unknown key, a device already there — is decided below, one by one.
        do {
            if let outcome = try await registrations.submit(KeyRegistration(row: row, key: key, now: now, actor: actor)) {
                return outcome
            }
        } catch is ConcurrentRegistration {
            // Another instance (or process) stored one of the batch's devices meanwhile: the batch rolled back, its keys
            // unspent; each is decided one by one below.
        }

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
        try await Self.insertDevices([(row, registeredBy, registrationKey)], now: now, on: db)
    }

    /// Inserts devices (distinct UUIDs) and their epoch-0 keys, two statements for all; throws `ConcurrentRegistration`
    /// when a UUID was taken meanwhile.
    static func insertDevices(
        _ devices: [(row: DeviceRow, registeredBy: String, registrationKey: String)],
        now: Int64,
        on db: any SQLDatabase
    ) async throws {
        let values: [[any SQLExpression]] = devices.map { device in
            let (row, registration) = (device.row, device.row.registration)
            let manufacturing = registration.manufacturing
            return [
                SQLBind(row.uuid), SQLBind(registration.productID), SQLBind(registration.productHex.description), SQLBind(registration.deviceClass),
                SQLBind(row.publicKey), SQLBind(registration.registeringApplication), SQLBind(registration.registeringVersion),
                SQLBind(row.mcu), SQLBind(row.network), SQLBind(row.partitions), SQLBind(now), SQLBind(device.registeredBy),
                SQLBind(device.registrationKey), SQLBind(manufacturing.region), SQLBind(manufacturing.fleetID),
                SQLBind(manufacturing.firmwareVersion), SQLBind(row.factoryTest),
            ]
        }
        let inserted = try await db.insert(into: "devices").columns(Self.registrationColumns).rows(values)
            .ignoringConflicts(with: "uuid").returning("uuid").all()
        guard inserted.count == devices.count else { throw ConcurrentRegistration() }
        try await db.insert(into: "device_keys").columns("uuid", "epoch", "public_key", "state", "created_at", "activated_at")
            .rows(
                devices.map {
                    [SQLBind($0.row.uuid), SQLBind(0), SQLBind($0.row.publicKey), SQLBind(KeyState.active.rawValue), SQLBind(now), SQLBind(now)]
                }
            ).run()
    }

    /// One registration handed to the batch.
    struct KeyRegistration: Sendable {
        let row: DeviceRow
        let key: RegistrationKeyReference
        let now: Int64
        let actor: AuditActor
    }

    /// Registers a batch in one transaction: one statement spends the keys of the devices not yet stored (the first
    /// registration of each UUID and key in the batch), one inserts those devices, one their keys, one the audit rows.
    /// Returns `.registered` for each one stored, nil for the others (the caller decides them one by one).
    static func registerBatch(_ batch: [KeyRegistration], on provider: any DatabaseProvider) async throws -> [RegistrationOutcome?] {
        var uuids = Set<String>()
        var keys = Set<String>()
        let candidates = batch.filter { uuids.insert($0.row.uuid).inserted && keys.insert($0.key.lookup).inserted }
        // The batch's latest clock: a key that expires within the batch's span is left to the one-by-one path.
        let now = batch.map(\.now).max() ?? 0
        return try await provider.transaction { db in
            var deviceOfKey = SQLQueryString("CASE registration_keys.key")
            for item in candidates { deviceOfKey += " WHEN \(bind: item.key.lookup) THEN \(bind: item.row.uuid)" }
            deviceOfKey += " END"
            let spent = try await db.raw(
                """
                UPDATE registration_keys SET spent_at = \(bind: now), spent_by = \(deviceOfKey)
                WHERE key IN (\(binds: candidates.map(\.key.lookup))) AND spent_at IS NULL AND revoked_at IS NULL
                AND expires_at > \(bind: now) AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.uuid = \(deviceOfKey))
                RETURNING key, created_by
                """
            ).all()
            var mintedBy: [String: String] = [:]
            for row in spent { mintedBy[try row.decode(column: "key", as: String.self)] = try row.decode(column: "created_by", as: String.self) }
            let stored = candidates.filter { mintedBy[$0.key.lookup] != nil }
            guard !stored.isEmpty else { return batch.map { _ in nil } }
            try await insertDevices(
                stored.map { ($0.row, mintedBy[$0.key.lookup] ?? "", $0.key.lookup) },
                now: now,
                on: db
            )
            let audit = stored.map { item in
                AuditEvent(
                    at: now,
                    by: item.actor,
                    action: "device.registered",
                    subject: item.row.uuid,
                    detail: "product \(item.row.registration.productHex) with key \(item.key.masked) minted by \(mintedBy[item.key.lookup] ?? "")"
                )
            }
            try await insertAudit(audit, on: db)
            let registered = Set(stored.map(\.row.uuid))
            var answered = Set<String>()
            return batch.map { registered.contains($0.row.uuid) && answered.insert($0.row.uuid).inserted ? .registered : nil }
        }
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

}
