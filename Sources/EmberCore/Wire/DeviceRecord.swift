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
    /// What the device reported at its last check-in.
    public var lastCheckIn: LastCheckIn?
    /// The epoch of the active key (0: FireFly's derived key).
    public var keyEpoch: Int = 0
    /// Every key the device has had; only the single-device view fills it in.
    public var keys: [DeviceKeyInfo]?
    /// The manufacturing fields of the registration (lifecycle §5).
    public var region: String?
    public var fleetID: String?
    /// The account that claimed the device (lifecycle §7), and when.
    public var ownerAccount: String?
    public var claimedAt: Int64?
    /// The registration's firmware version, updated by every check-in that reports one.
    public var firmwareVersion: String?
    public var factoryTest: FactoryTestSummary?

    /// `registered` or `decommissioned`.
    public var state: String { decommissionedAt == nil ? "registered" : "decommissioned" }

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
        case backup, keys, state
        case lastSeenAt = "last_seen_at"
        case firmwareVersion = "firmware_version"
        case configVersion = "config_version"
        case configHash = "config_hash"
        case reportedState = "reported_state"
        case uptimeS = "uptime_s"
        case keyEpoch = "key_epoch"
        case region
        case fleetID = "fleet_id"
        case factoryTest = "factory_test"
        case ownerAccount = "owner_account"
        case claimedAt = "claimed_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try c.decode(String.self, forKey: .uuid)
        productID = try c.decode(String.self, forKey: .productID)
        productHex = try c.decode(String.self, forKey: .productHex)
        deviceClass = try c.decode(String.self, forKey: .deviceClass)
        publicKey = try c.decode(String.self, forKey: .publicKey)
        registeringApplication = try c.decode(String.self, forKey: .registeringApplication)
        registeringVersion = try c.decode(String.self, forKey: .registeringVersion)
        mcu = try c.decode(MCUInfo.self, forKey: .mcu)
        network = try c.decode([NetworkInterface].self, forKey: .network)
        partitions = try c.decode([PartitionEntry].self, forKey: .partitions)
        registrationDate = try c.decode(Int64.self, forKey: .registrationDate)
        registeredBy = try c.decode(String.self, forKey: .registeredBy)
        decommissionedAt = try c.decodeIfPresent(Int64.self, forKey: .decommissionedAt)
        backup = try c.decodeIfPresent(BackupInfo.self, forKey: .backup)
        keyEpoch = try c.decodeIfPresent(Int.self, forKey: .keyEpoch) ?? 0
        keys = try c.decodeIfPresent([DeviceKeyInfo].self, forKey: .keys)
        region = try c.decodeIfPresent(String.self, forKey: .region)
        fleetID = try c.decodeIfPresent(String.self, forKey: .fleetID)
        ownerAccount = try c.decodeIfPresent(String.self, forKey: .ownerAccount)
        claimedAt = try c.decodeIfPresent(Int64.self, forKey: .claimedAt)
        firmwareVersion = try c.decodeIfPresent(String.self, forKey: .firmwareVersion)
        factoryTest = try c.decodeIfPresent(FactoryTestSummary.self, forKey: .factoryTest)
        if let seen = try c.decodeIfPresent(Int64.self, forKey: .lastSeenAt) {
            lastCheckIn = LastCheckIn(
                at: seen,
                report: CheckInReport(
                    firmwareVersion: try c.decodeIfPresent(String.self, forKey: .firmwareVersion),
                    configVersion: try c.decodeIfPresent(Int.self, forKey: .configVersion),
                    configHash: try c.decodeIfPresent(String.self, forKey: .configHash),
                    keyEpoch: nil,
                    state: try c.decodeIfPresent(String.self, forKey: .reportedState),
                    uptimeS: try c.decodeIfPresent(Int64.self, forKey: .uptimeS)
                )
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(uuid, forKey: .uuid)
        try c.encode(productID, forKey: .productID)
        try c.encode(productHex, forKey: .productHex)
        try c.encode(deviceClass, forKey: .deviceClass)
        try c.encode(publicKey, forKey: .publicKey)
        try c.encode(registeringApplication, forKey: .registeringApplication)
        try c.encode(registeringVersion, forKey: .registeringVersion)
        try c.encode(mcu, forKey: .mcu)
        try c.encode(network, forKey: .network)
        try c.encode(partitions, forKey: .partitions)
        try c.encode(registrationDate, forKey: .registrationDate)
        try c.encode(registeredBy, forKey: .registeredBy)
        try c.encode(decommissionedAt, forKey: .decommissionedAt)
        try c.encode(state, forKey: .state)
        try c.encode(keyEpoch, forKey: .keyEpoch)
        try c.encode(lastCheckIn?.at, forKey: .lastSeenAt)
        try c.encode(firmwareVersion ?? lastCheckIn?.report.firmwareVersion, forKey: .firmwareVersion)
        try c.encode(region, forKey: .region)
        try c.encode(fleetID, forKey: .fleetID)
        try c.encode(ownerAccount, forKey: .ownerAccount)
        try c.encode(claimedAt, forKey: .claimedAt)
        try c.encode(factoryTest, forKey: .factoryTest)
        try c.encode(lastCheckIn?.report.configVersion, forKey: .configVersion)
        try c.encode(lastCheckIn?.report.configHash, forKey: .configHash)
        try c.encode(lastCheckIn?.report.state, forKey: .reportedState)
        try c.encode(lastCheckIn?.report.uptimeS, forKey: .uptimeS)
        try c.encodeIfPresent(backup, forKey: .backup)
        try c.encodeIfPresent(keys, forKey: .keys)
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
