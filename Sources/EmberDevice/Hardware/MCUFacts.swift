/// Fixed ESP32 chip facts; `GET /api/mcu` and the registration body are built from them.
public struct MCUFacts: Sendable, Codable, Equatable {
    public var chipModel: String
    public var revision: Int
    public var cpuFreqMHz: Int
    public var chipCores: Int
    public var sdkVersion: String
    public var flashChipSize: Int
    public var flashChipSpeedMHz: Int
    public var flashChipMode: String
    public var psramSize: Int
    public var chipFeatures: [String]

    enum CodingKeys: String, CodingKey {
        case chipModel = "chip_model"
        case revision
        case cpuFreqMHz = "cpu_freq_mhz"
        case chipCores = "chip_cores"
        case sdkVersion = "sdk_version"
        case flashChipSize = "flash_chip_size"
        case flashChipSpeedMHz = "flash_chip_speed"
        case flashChipMode = "flash_chip_mode"
        case psramSize = "psram_size"
        case chipFeatures = "chip_features"
    }

    /// An ESP32-D0WD-V3 with 16 MiB flash and 4 MiB PSRAM, as on FireFly controllers.
    public static let esp32 = MCUFacts(
        chipModel: "ESP32-D0WD-V3",
        revision: 3,
        cpuFreqMHz: 240,
        chipCores: 2,
        sdkVersion: "v4.4.7",
        flashChipSize: 16_777_216,
        flashChipSpeedMHz: 80,
        flashChipMode: "QIO",
        psramSize: 4_194_304,
        chipFeatures: ["WiFi-bgn", "BLE", "BT"]
    )
}
