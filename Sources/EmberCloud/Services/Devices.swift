import EmberCore

/// Reading the device registry: a device's own status, and the admin's list and detail views.
public struct Devices: Sendable {
    let store: any DeviceRepository & BackupRepository

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

    func device(uuid text: String) async throws -> DeviceRecord {
        guard let uuid = DeviceUUID.parse(text) else { throw RegistryError.badRequest("uuid must be a valid UUID") }
        guard var device = try await store.device(uuid: DeviceUUID.format(uuid)) else {
            throw RegistryError.notFound("No device \(DeviceUUID.format(uuid))")
        }
        device.backup = try await store.backupInfo(uuid: device.uuid)
        return device
    }

    func list(limit: Int, after: String?) async throws -> [DeviceRecord] {
        var cursor: String?
        if let after {
            guard let uuid = DeviceUUID.parse(after) else { throw RegistryError.badRequest("after must be a device UUID") }
            cursor = DeviceUUID.format(uuid)
        }
        return try await store.devices(limit: limit, after: cursor)
    }
}
