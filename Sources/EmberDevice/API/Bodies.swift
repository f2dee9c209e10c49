import Foundation

/// `200` of `POST /api/cloud-backup`: the cloud's status.
struct CloudStatusBody: Encodable {
    var status: Int
}

/// The optional body of `POST /api/registration`; `force` registers despite a failed factory test.
struct RegistrationTarget: Decodable {
    var url: String?
    var force: Bool?
}

/// `GET /api/registration`.
struct RegistrationStatusBody: Encodable {
    var registered: Bool
    var checkedAt: Int64
    var cloudAPIRoot: String
    enum CodingKeys: String, CodingKey {
        case registered
        case checkedAt = "checked_at"
        case cloudAPIRoot = "cloud_api_root"
    }
}

/// `GET /api/version`; `ui` is null: Ember serves no separate UI partition.
struct VersionBody: Encodable {
    struct Application: Encodable {
        var name: String
        var version: String
        var commit: String
    }

    var application: Application
    var productHex: String

    enum CodingKeys: String, CodingKey {
        case application
        case productHex = "product_hex"
        case ui
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(application, forKey: .application)
        try container.encode(productHex, forKey: .productHex)
        try container.encodeNil(forKey: .ui)
    }
}

/// `GET /api/mcu`, FireFly's fields (`revision` is a string here).
struct MCUBody: Encodable {
    var chipModel: String
    var revision: String
    var cpuFreqMHz: Int
    var chipCores: Int
    var sdkVersion: String
    var flashChipSize: Int
    var flashChipSpeed: Int
    var flashChipMode: String
    var freeHeap: Int
    var psramSize: Int
    var freePSRAM: Int
    var chipFeatures: [String]
    var bootTime: Int64

    enum CodingKeys: String, CodingKey {
        case chipModel = "chip_model"
        case revision
        case cpuFreqMHz = "cpu_freq_mhz"
        case chipCores = "chip_cores"
        case sdkVersion = "sdk_version"
        case flashChipSize = "flash_chip_size"
        case flashChipSpeed = "flash_chip_speed"
        case flashChipMode = "flash_chip_mode"
        case freeHeap = "free_heap"
        case psramSize = "psram_size"
        case freePSRAM = "free_psram"
        case chipFeatures = "chip_features"
        case bootTime = "boot_time"
    }
}

/// The body of `POST /api/decommission` and `POST /api/factory-reset`: the device's UUID, typed again as the
/// confirmation.
struct DecommissionConfirmation: Decodable {
    var uuid: String?
}

/// `200` of `POST /api/decommission`: whether the registry was told (else it is told when it can be reached).
struct DecommissionReply: Encodable {
    var notified: Bool
}

/// `200` of `POST /api/keys/rotate`: the epoch now in use.
struct KeyRotated: Encodable {
    var epoch: Int
}
