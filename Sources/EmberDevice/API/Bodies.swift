import Foundation

/// `200` of `POST /api/cloud-backup`: the cloud's status.
struct CloudStatusBody: Encodable {
    var status: Int
}

/// The optional body of `POST /api/registration`.
struct RegistrationTarget: Decodable {
    var url: String?
}

/// `GET /api/registration`.
struct RegistrationStatusBody: Encodable {
    var registered: Bool
    var checkedAt: Int64
    var cloudAPIRoot: String
    enum CodingKeys: String, CodingKey { case registered, checkedAt = "checked_at", cloudAPIRoot = "cloud_api_root" }
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

    enum CodingKeys: String, CodingKey { case application, productHex = "product_hex", ui }

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
        case chipModel = "chip_model", revision, cpuFreqMHz = "cpu_freq_mhz", chipCores = "chip_cores", sdkVersion = "sdk_version"
        case flashChipSize = "flash_chip_size", flashChipSpeed = "flash_chip_speed", flashChipMode = "flash_chip_mode"
        case freeHeap = "free_heap", psramSize = "psram_size", freePSRAM = "free_psram", chipFeatures = "chip_features"
        case bootTime = "boot_time"
    }
}
