import Foundation

/// The FireFly `POST /devices/register` body, as sent; `validated()` checks it.
public struct RegistrationRequest: Codable, Sendable, Equatable {
    public var uuid: String?
    public var productID: String?
    public var productHex: String?
    public var deviceClass: String?
    public var publicKey: String?
    public var registeringApplication: String?
    public var registeringVersion: String?
    public var mcu: MCUInfo?
    public var network: [NetworkInterface]?
    public var partitions: [PartitionEntry]?
    /// Ember's manufacturing fields (lifecycle §5); FireFly's cloud ignores them.
    public var region: String?
    public var fleetID: String?
    public var firmwareVersion: String?
    public var factoryTest: FactoryTestSummary?

    enum CodingKeys: String, CodingKey {
        case uuid
        case productID = "product_id"
        case productHex = "product_hex"
        case deviceClass = "device_class"
        case publicKey = "public_key"
        case registeringApplication = "registering_application"
        case registeringVersion = "registering_version"
        case mcu, network, partitions, region
        case fleetID = "fleet_id"
        case firmwareVersion = "firmware_version"
        case factoryTest = "factory_test"
    }

    /// A body with every field given.
    public init(
        uuid: String?,
        productID: String?,
        productHex: String?,
        deviceClass: String?,
        publicKey: String?,
        registeringApplication: String?,
        registeringVersion: String?,
        mcu: MCUInfo?,
        network: [NetworkInterface]?,
        partitions: [PartitionEntry]?,
        manufacturing: ManufacturingFields = ManufacturingFields()
    ) {
        self.region = manufacturing.region
        self.fleetID = manufacturing.fleetID
        self.firmwareVersion = manufacturing.firmwareVersion
        self.factoryTest = manufacturing.factoryTest
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
    }
}

/// The `mcu` object of a registration: the chip facts of the manufacturing record.
public struct MCUInfo: Codable, Sendable, Equatable {
    public var model: String?
    public var revision: Int?
    public var cpuFreqMHz: Int?
    public var cores: Int?
    public var flashChipSize: Int?
    public var flashChipSpeed: Int?
    public var flashChipMode: String?
    public var psramSize: Int?
    public var features: [String]?
    public var idfVersion: String?

    enum CodingKeys: String, CodingKey {
        case model, revision, cores, features
        case cpuFreqMHz = "cpu_freq_mhz"
        case flashChipSize = "flash_chip_size"
        case flashChipSpeed = "flash_chip_speed"
        case flashChipMode = "flash_chip_mode"
        case psramSize = "psram_size"
        case idfVersion = "idf_version"
    }

    /// MCU facts, each optional as on the wire.
    public init(
        model: String? = nil,
        revision: Int? = nil,
        cpuFreqMHz: Int? = nil,
        cores: Int? = nil,
        flashChipSize: Int? = nil,
        flashChipSpeed: Int? = nil,
        flashChipMode: String? = nil,
        psramSize: Int? = nil,
        features: [String]? = nil,
        idfVersion: String? = nil
    ) {
        self.model = model
        self.revision = revision
        self.cpuFreqMHz = cpuFreqMHz
        self.cores = cores
        self.flashChipSize = flashChipSize
        self.flashChipSpeed = flashChipSpeed
        self.flashChipMode = flashChipMode
        self.psramSize = psramSize
        self.features = features
        self.idfVersion = idfVersion
    }

    /// True when no field is set: Python's falsy `{}`, which FireFly treats as missing.
    var isEmpty: Bool { self == MCUInfo() }
}

/// One `network` entry: an interface name and its MAC.
public struct NetworkInterface: Codable, Sendable, Equatable {
    public var interface: String
    public var macAddress: String

    enum CodingKeys: String, CodingKey {
        case interface
        case macAddress = "mac_address"
    }

    /// An interface and its MAC text.
    public init(interface: String, macAddress: String) {
        self.interface = interface
        self.macAddress = macAddress
    }
}

/// One partition-table row, as `GET /api/partitions` prints it.
public struct PartitionEntry: Codable, Sendable, Equatable {
    public var type: Int
    public var subtype: Int
    public var address: Int
    public var size: Int
    public var label: String

    /// A partition row.
    public init(type: Int, subtype: Int, address: Int, size: Int, label: String) {
        self.type = type
        self.subtype = subtype
        self.address = address
        self.size = size
        self.label = label
    }
}
