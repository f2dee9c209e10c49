import EmberCore

/// Reading the device registry: a device's own status, and the admin's list and detail views.
public struct Devices: Sendable {
    let store: any DeviceRepository & BackupRepository & DeviceKeyRepository
    let ledger: CheckInLedger

    /// The lowercase form of a UUID in a path; 400 when it is not one.
    static func canonicalUUID(_ text: String) throws -> String {
        guard let uuid = DeviceUUID.parse(text) else { throw RegistryError.badRequest("uuid must be a valid UUID") }
        return DeviceUUID.format(uuid)
    }

    /// The FireFly registration status of a device that authenticated.
    func status(of device: DeviceCredential) -> RegistrationStatus {
        RegistrationStatus(
            uuid: device.uuid,
            productID: device.productID,
            productHex: device.productHex,
            deviceClass: device.deviceClass,
            registrationDate: DeviceTimestamp(epochSeconds: device.registrationDate).text,
            registeringApplication: device.registeringApplication,
            registeringVersion: device.registeringVersion
        )
    }

    /// The admin view of one device: its record, backup, keys and newest check-in.
    func device(uuid text: String) async throws -> DeviceRecord {
        let uuid = try Self.canonicalUUID(text)
        guard var device = try await store.device(uuid: uuid) else { throw RegistryError.notFound("No device \(uuid)") }
        device.backup = try await store.backupInfo(uuid: device.uuid)
        device.keys = try await store.deviceKeys(uuid: uuid)
        if let unwritten = ledger.unwritten(uuid: uuid) { device.lastCheckIn = unwritten }
        return device
    }

    /// A page of devices; `state` is `registered`, `decommissioned` or nil for all.
    func list(limit: Int, after: String?, state: String?) async throws -> [DeviceRecord] {
        var cursor: String?
        if let after {
            guard let uuid = DeviceUUID.parse(after) else { throw RegistryError.badRequest("after must be a device UUID") }
            cursor = DeviceUUID.format(uuid)
        }
        let decommissioned: Bool?
        switch state {
        case nil: decommissioned = nil
        case "registered": decommissioned = false
        case "decommissioned": decommissioned = true
        default: throw RegistryError.badRequest("state must be registered or decommissioned")
        }
        return try await store.devices(limit: limit, after: cursor, decommissioned: decommissioned).map { device in
            guard let unwritten = ledger.unwritten(uuid: device.uuid) else { return device }
            var device = device
            device.lastCheckIn = unwritten
            return device
        }
    }
}
