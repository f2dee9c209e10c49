import Foundation

/// A registered device as the admin API shows it: the FireFly registration record plus Ember's bookkeeping.
public struct DeviceRecord: Codable, Sendable, Equatable {
    public var uuid: String
    public var productID: String
    public var productHex: String
    public var deviceClass: String
    public var publicKey: String
    public var registeringApplication: String
    public var registeringVersion: String
    public var mcu: MCUInfo
    public var network: [NetworkInterface]
    public var partitions: [PartitionEntry]
    /// Unix seconds; written once.
    public var registrationDate: Int64
    /// Name of the admin token that minted the spent registration key.
    public var registeredBy: String
    public var decommissionedAt: Int64?
    /// The stored backup (size, ETag, date); only the single-device view fills it in.
    public var backup: BackupInfo?

    enum CodingKeys: String, CodingKey {
        case uuid, mcu, network, partitions
        case productID = "product_id"
        case productHex = "product_hex"
        case deviceClass = "device_class"
        case publicKey = "public_key"
        case registeringApplication = "registering_application"
        case registeringVersion = "registering_version"
        case registrationDate = "registration_date"
        case registeredBy = "registered_by"
        case decommissionedAt = "decommissioned_at"
        case backup
    }

    /// A device record with every field.
    public init(
        uuid: String,
        productID: String,
        productHex: String,
        deviceClass: String,
        publicKey: String,
        registeringApplication: String,
        registeringVersion: String,
        mcu: MCUInfo,
        network: [NetworkInterface],
        partitions: [PartitionEntry],
        registrationDate: Int64,
        registeredBy: String,
        decommissionedAt: Int64?,
        backup: BackupInfo? = nil
    ) {
        self.uuid = uuid
        self.productID = productID
        self.productHex = productHex
        self.deviceClass = deviceClass
        self.publicKey = publicKey
        self.registeringApplication = registeringApplication
        self.registeringVersion = registeringVersion
        self.mcu = mcu
        self.network = network
        self.partitions = partitions
        self.registrationDate = registrationDate
        self.registeredBy = registeredBy
        self.decommissionedAt = decommissionedAt
        self.backup = backup
    }
}

/// One page of `GET /devices`; pass `next_after` as `after` for the next page (absent on the last page).
public struct DevicePage: Codable, Sendable, Equatable {
    public var devices: [DeviceRecord]
    public var nextAfter: String?

    enum CodingKeys: String, CodingKey {
        case devices
        case nextAfter = "next_after"
    }

    /// A page of devices.
    public init(devices: [DeviceRecord], nextAfter: String?) {
        self.devices = devices
        self.nextAfter = nextAfter
    }
}
