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

    /// Throws the 404 of an unknown device unless `account` owns `uuid`.
    static func requireOwned(_ uuid: String, by account: String, store: any DeviceRepository) async throws {
        guard try await store.device(uuid: uuid)?.ownerAccount == account else { throw RegistryError.notFound("No device \(uuid)") }
    }

    /// The admin view of one device: its record, backup, keys and newest check-in. With `scope` (a `user` caller's
    /// account), another account's device is 404, as if it did not exist.
    func device(uuid text: String, scope: String? = nil) async throws -> DeviceRecord {
        let uuid = try Self.canonicalUUID(text)
        guard var device = try await store.device(uuid: uuid), scope == nil || device.ownerAccount == scope else {
            throw RegistryError.notFound("No device \(uuid)")
        }
        device.backup = try await store.backupInfo(uuid: device.uuid)
        device.keys = try await store.deviceKeys(uuid: uuid)
        if let unwritten = ledger.unwritten(uuid: uuid) { device.lastCheckIn = unwritten }
        return device
    }

    /// Devices per product and state, and registrations per day from `since` on (the console's overview).
    func summary(since: Int64) async throws -> (products: [ProductCount], perDay: [DayCount]) {
        (try await store.productCounts(), try await store.registrationsPerDay(since: since))
    }

    /// The filter of a list or an export from its query values, each checked: `state` is `registered` or
    /// `decommissioned`, `q` the start of a UUID.
    static func filter(state: String?, productHex: String?, fleetID: String?, region: String?, q: String?) throws -> DeviceFilter {
        var filter = DeviceFilter()
        switch state {
        case nil: break
        case "registered": filter.decommissioned = false
        case "decommissioned": filter.decommissioned = true
        default: throw RegistryError.badRequest("state must be registered or decommissioned")
        }
        if let productHex {
            guard let hex = ProductHex(productHex) else { throw RegistryError.badRequest("product_hex must be 0x and 8 hex digits, e.g. 0x08062305") }
            filter.productHex = hex.description
        }
        if let fleetID {
            if let problem = ManufacturingFields.fleetIDProblem(fleetID) { throw RegistryError.badRequest("fleet_id \(problem)") }
            filter.fleetID = fleetID
        }
        if let region {
            if let problem = ManufacturingFields.regionProblem(region) { throw RegistryError.badRequest("region \(problem)") }
            filter.region = region
        }
        if let q {
            let prefix = q.lowercased()
            guard (1...36).contains(prefix.count), prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                throw RegistryError.badRequest("q must be the start of a UUID: 1 to 36 hex digits and dashes")
            }
            filter.uuidPrefix = prefix
        }
        return filter
    }

    /// A page of the devices `filter` matches, after the UUID `after`.
    func list(limit: Int, after: String?, filter: DeviceFilter) async throws -> [DeviceRecord] {
        var cursor: String?
        if let after {
            guard let uuid = DeviceUUID.parse(after) else { throw RegistryError.badRequest("after must be a device UUID") }
            cursor = DeviceUUID.format(uuid)
        }
        return try await store.devices(limit: limit, after: cursor, filter: filter).map(withUnwrittenCheckIn)
    }

    /// Every manufacturing record `filter` matches, in UUID order, handed to `write` a page at a time (the memory
    /// used does not grow with the fleet).
    func export(
        format: ManufacturingExport.Format,
        filter: DeviceFilter,
        pageSize: Int = 1_000,
        write: (String) async throws -> Void
    ) async throws {
        if format == .csv { try await write(ManufacturingExport.header) }
        var after: String?
        while true {
            let page = try await store.devices(limit: pageSize, after: after, filter: filter)
            var chunk = ""
            for device in page { chunk += try ManufacturingExport.line(withUnwrittenCheckIn(device), format: format) }
            if !chunk.isEmpty { try await write(chunk) }
            guard page.count == pageSize, let last = page.last else { return }
            after = last.uuid
        }
    }

    private func withUnwrittenCheckIn(_ device: DeviceRecord) -> DeviceRecord {
        guard let unwritten = ledger.unwritten(uuid: device.uuid) else { return device }
        var device = device
        device.lastCheckIn = unwritten
        return device
    }
}
