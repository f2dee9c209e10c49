import EmberCore
import Foundation
import SQLKit

extension SQLStore {
    static let deviceColumns = [
        "uuid", "product_id", "product_hex", "device_class", "public_key", "registering_application", "registering_version",
        "mcu", "network", "partitions", "registration_date", "registered_by", "decommissioned_at",
    ]
    /// The columns a registration writes, in the order of its values.
    static let registrationColumns = [
        "uuid", "product_id", "product_hex", "device_class", "public_key", "registering_application", "registering_version",
        "mcu", "network", "partitions", "registration_date", "registered_by", "registration_key",
    ]

    public func register(_ registration: DeviceRegistration, key: String, now: Int64, by actor: AuditActor) async throws -> RegistrationOutcome {
        let uuid = DeviceUUID.format(registration.uuid)
        let publicKey = registration.publicKey.base64
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let mcu = String(decoding: try encoder.encode(registration.mcu), as: UTF8.self)
        let network = String(decoding: try encoder.encode(registration.network), as: UTF8.self)
        let partitions = String(decoding: try encoder.encode(registration.partitions), as: UTF8.self)

        // Another transaction may insert the same UUID with another key between our check and our insert (PostgreSQL
        // runs them in parallel): then this one rolls back, un-spending its key, and is decided again.
        for _ in 0..<3 {
            do {
                return try await registerOnce(
                    registration,
                    uuid: uuid,
                    publicKey: publicKey,
                    json: (mcu, network, partitions),
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

    private struct ConcurrentRegistration: Error {}

    private func registerOnce(
        _ registration: DeviceRegistration,
        uuid: String,
        publicKey: String,
        json: (String, String, String),
        key: String,
        now: Int64,
        by actor: AuditActor
    ) async throws -> RegistrationOutcome {
        let (mcu, network, partitions) = json
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
                    SELECT d.public_key FROM registration_keys k JOIN devices d ON d.uuid = k.spent_by
                    WHERE k.key = \(bind: key) AND k.spent_by = \(bind: uuid)
                    """
                ).first()
                guard let own, try own.decode(column: "public_key", as: String.self) == publicKey else { return .invalidKey }
                return .alreadyRegistered
            }

            if let existing = try await db.select().column("public_key").from("devices").where("uuid", .equal, uuid).first() {
                let stored = try existing.decode(column: "public_key", as: String.self)
                return stored == publicKey ? .alreadyRegistered : .conflictingPublicKey
            }

            let spend = db.update("registration_keys").set("spent_at", to: now).set("spent_by", to: uuid)
            usableKey(spend)
            guard let spent = try await spend.returning("created_by").first() else { return .invalidKey }
            let mintedBy = try spent.decode(column: "created_by", as: String.self)

            let inserted = try await db.insert(into: "devices")
                .columns(Self.registrationColumns)
                .values(
                    SQLBind(uuid),
                    SQLBind(registration.productID),
                    SQLBind(registration.productHex.description),
                    SQLBind(registration.deviceClass),
                    SQLBind(publicKey),
                    SQLBind(registration.registeringApplication),
                    SQLBind(registration.registeringVersion),
                    SQLBind(mcu),
                    SQLBind(network),
                    SQLBind(partitions),
                    SQLBind(now),
                    SQLBind(mintedBy),
                    SQLBind(key)
                ).ignoringConflicts(with: "uuid").returning("uuid").first()
            guard inserted != nil else { throw ConcurrentRegistration() }
            try await insertAudit(
                [
                    AuditEvent(
                        at: now,
                        by: actor,
                        action: "device.registered",
                        subject: uuid,
                        detail: "product \(registration.productHex) with key \(RegistrationKey.masked(key)) minted by \(mintedBy)"
                    )
                ],
                on: db
            )
            return .registered
        }
    }

    public func device(uuid: String) async throws -> DeviceRecord? {
        try await provider.read { db in
            try await db.select().columns(Self.deviceColumns).from("devices").where("uuid", .equal, uuid).first().map(Self.deviceRecord)
        }
    }

    public func deviceCredential(uuid: String) async throws -> DeviceCredential? {
        try await provider.read { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT public_key, decommissioned_at, product_id, product_hex, device_class, registration_date,
                    registering_application, registering_version FROM devices WHERE uuid = \(bind: uuid)
                    """
                ).first()
            else { return nil }
            return DeviceCredential(
                uuid: uuid,
                publicKey: try row.decode(column: "public_key", as: String.self),
                decommissioned: try row.decode(column: "decommissioned_at", as: Int64?.self) != nil,
                productID: try row.decode(column: "product_id", as: String.self),
                productHex: try row.decode(column: "product_hex", as: String.self),
                deviceClass: try row.decode(column: "device_class", as: String.self),
                registrationDate: try row.decode(column: "registration_date", as: Int64.self),
                registeringApplication: try row.decode(column: "registering_application", as: String.self),
                registeringVersion: try row.decode(column: "registering_version", as: String.self)
            )
        }
    }

    public func devices(limit: Int, after: String?) async throws -> [DeviceRecord] {
        try await provider.read { db in
            var query = db.select().columns(Self.deviceColumns).from("devices")
            if let after { query = query.where("uuid", .greaterThan, after) }
            return try await query.orderBy("uuid").limit(limit).all().map(Self.deviceRecord)
        }
    }

    static func deviceRecord(_ row: any SQLRow) throws -> DeviceRecord {
        let decoder = JSONDecoder()
        func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
            let text = try row.decode(column: column, as: String.self)
            do {
                return try decoder.decode(T.self, from: Data(text.utf8))
            } catch {
                throw StoreError.corruptRow("device \(column)")
            }
        }
        return DeviceRecord(
            uuid: try row.decode(column: "uuid", as: String.self),
            productID: try row.decode(column: "product_id", as: String.self),
            productHex: try row.decode(column: "product_hex", as: String.self),
            deviceClass: try row.decode(column: "device_class", as: String.self),
            publicKey: try row.decode(column: "public_key", as: String.self),
            registeringApplication: try row.decode(column: "registering_application", as: String.self),
            registeringVersion: try row.decode(column: "registering_version", as: String.self),
            mcu: try json("mcu", as: MCUInfo.self),
            network: try json("network", as: [NetworkInterface].self),
            partitions: try json("partitions", as: [PartitionEntry].self),
            registrationDate: try row.decode(column: "registration_date", as: Int64.self),
            registeredBy: try row.decode(column: "registered_by", as: String.self),
            decommissionedAt: try row.decode(column: "decommissioned_at", as: Int64?.self)
        )
    }
}
