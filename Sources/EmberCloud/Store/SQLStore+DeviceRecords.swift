import EmberCore
import Foundation
import SQLKit

/// Reading device records: the filtered, keyset-paged list and the row → record mapping.
extension SQLStore {
    public func devices(limit: Int, after: String?, filter: DeviceFilter) async throws -> [DeviceRecord] {
        try await provider.read { db in
            var query = SQLQueryString("SELECT \(Self.deviceSelection) FROM devices d WHERE 1 = 1")
            if let after { query = query + " AND d.uuid > \(bind: after)" }
            switch filter.decommissioned {
            case true?: query = query + " AND d.decommissioned_at IS NOT NULL"
            case false?: query = query + " AND d.decommissioned_at IS NULL"
            case nil: break
            }
            if let product = filter.productHex { query = query + " AND d.product_hex = \(bind: product)" }
            if let fleet = filter.fleetID { query = query + " AND d.fleet_id = \(bind: fleet)" }
            if let region = filter.region { query = query + " AND d.region = \(bind: region)" }
            if let owner = filter.ownerAccount { query = query + " AND d.owner_account = \(bind: owner)" }
            // The prefix holds only hex digits and dashes (checked by the service): no LIKE wildcard to escape.
            if let prefix = filter.uuidPrefix { query = query + " AND d.uuid LIKE \(bind: prefix + "%")" }
            query = query + " ORDER BY d.uuid LIMIT \(bind: limit)"
            return try await db.raw(query).all().map(Self.deviceRecord)
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
        var record = DeviceRecord(
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
        record.keyEpoch = try row.decode(column: "key_epoch", as: Int?.self) ?? 0
        record.region = try row.decode(column: "region", as: String?.self)
        record.fleetID = try row.decode(column: "fleet_id", as: String?.self)
        record.ownerAccount = try row.decode(column: "owner_account", as: String?.self)
        record.claimedAt = try row.decode(column: "claimed_at", as: Int64?.self)
        record.firmwareVersion = try row.decode(column: "firmware_version", as: String?.self)
        if try !row.decodeNil(column: "factory_test") { record.factoryTest = try json("factory_test", as: FactoryTestSummary.self) }
        if let seen = try row.decode(column: "last_seen_at", as: Int64?.self) {
            record.lastCheckIn = LastCheckIn(
                at: seen,
                report: CheckInReport(
                    firmwareVersion: try row.decode(column: "firmware_version", as: String?.self),
                    configVersion: try row.decode(column: "config_version", as: Int?.self),
                    configHash: try row.decode(column: "config_hash", as: String?.self),
                    state: try row.decode(column: "reported_state", as: String?.self),
                    uptimeS: try row.decode(column: "uptime_s", as: Int64?.self)
                )
            )
        }
        return record
    }
}
