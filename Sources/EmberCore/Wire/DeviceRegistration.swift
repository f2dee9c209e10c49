import Foundation

/// A registration body that passed validation, with its fields parsed.
public struct DeviceRegistration: Sendable, Equatable {
    public let uuid: UUID
    public let productID: String
    public let productHex: ProductHex
    public let deviceClass: String
    public let publicKey: DevicePublicKey
    public let registeringApplication: String
    public let registeringVersion: String
    public let mcu: MCUInfo
    public let network: [NetworkInterface]
    public let partitions: [PartitionEntry]
    /// Ember's fields: region, fleet, firmware version, factory test.
    public var manufacturing: ManufacturingFields
}

extension RegistrationRequest {
    /// Longest text Ember stores in any string field of a registration, in Unicode scalars (Python's `len`, as
    /// FireFly counts), so combining marks cannot hide inside one character.
    public static let maximumFieldLength = 128

    /// Checks the body in FireFly's order (required fields, then uuid, product_hex, public_key), then Ember's limits.
    public func validated() throws(WireError) -> DeviceRegistration {
        func require(_ value: String?, _ field: String) throws(WireError) -> String {
            guard let value, !value.isEmpty else { throw .required(field) }
            return value
        }
        let uuidText = try require(uuid, "uuid")
        let productID = try require(productID, "product_id")
        let productHexText = try require(productHex, "product_hex")
        let deviceClass = try require(deviceClass, "device_class")
        let publicKeyText = try require(publicKey, "public_key")
        let application = try require(registeringApplication, "registering_application")
        let version = try require(registeringVersion, "registering_version")
        guard let mcu, !mcu.isEmpty else { throw .required("mcu") }

        guard let uuid = DeviceUUID.parse(uuidText) else { throw .invalidUUID }
        guard let productHex = ProductHex(productHexText) else { throw .invalidProductHex }
        let publicKey: DevicePublicKey
        do {
            publicKey = try DevicePublicKey(base64: publicKeyText)
        } catch {
            throw .invalidPublicKey
        }

        let texts: [(String, String?)] = [
            ("product_id", productID), ("device_class", deviceClass), ("registering_application", application),
            ("registering_version", version), ("mcu.model", mcu.model), ("mcu.flash_chip_mode", mcu.flashChipMode),
            ("mcu.idf_version", mcu.idfVersion),
        ]
        for (field, text) in texts {
            try Self.checkLength(text, field)
        }
        for (index, feature) in (mcu.features ?? []).enumerated() {
            try Self.checkLength(feature, "mcu.features[\(index)]")
        }
        let network = network ?? []
        for (index, entry) in network.enumerated() {
            try Self.checkLength(entry.interface, "network[\(index)].interface")
            guard MACAddress(entry.macAddress) != nil else {
                throw WireError("network[\(index)].mac_address must be a MAC address like AA:BB:CC:DD:EE:FF")
            }
        }
        let partitions = partitions ?? []
        for (index, entry) in partitions.enumerated() {
            try Self.checkLength(entry.label, "partitions[\(index)].label")
        }
        guard network.count <= 16, partitions.count <= 64, (mcu.features ?? []).count <= 32 else {
            throw WireError("network, partitions and mcu.features may hold at most 16, 64 and 32 entries")
        }
        let manufacturing = try ManufacturingFields.of(self)
        return DeviceRegistration(
            uuid: uuid,
            productID: productID,
            productHex: productHex,
            deviceClass: deviceClass,
            publicKey: publicKey,
            registeringApplication: application,
            registeringVersion: version,
            mcu: mcu,
            network: network,
            partitions: partitions,
            manufacturing: manufacturing
        )
    }

    private static func checkLength(_ text: String?, _ field: String) throws(WireError) {
        guard let text, text.unicodeScalars.count > maximumFieldLength else { return }
        throw WireError("\(field) must be at most \(maximumFieldLength) characters")
    }
}
