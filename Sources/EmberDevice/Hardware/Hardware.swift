import Crypto
import EmberCore
import Foundation

/// The board the agent runs on. Everything the agent does to hardware goes through this protocol, so a real
/// backend (a Linux gateway with a key file or a TPM) can replace the simulated ESP32.
///
/// The master key never leaves an implementation: callers get keys derived from it, which zero their storage
/// when released.
public protocol Hardware: Sendable {
    /// The product the firmware was built for (FireFly's `PRODUCT_HEX` build constant).
    var product: ProductHex { get }
    /// The MAC of each network interface.
    var macAddresses: [NetworkInterfaceName: MACAddress] { get }
    /// Fixed chip facts.
    var mcu: MCUFacts { get }
    /// The partition table as flashed, in table order.
    var partitions: [PartitionEntry] { get }
    /// The configuration partition (`/configFS`): small files that survive restarts.
    var config: ConfigPartition { get }

    /// eFuse BLOCK1 as an identity; nil while the UUID bytes are blank.
    func identity() throws(HardwareError) -> IdentityBlock?
    /// Burns BLOCK1 and a master key into BLOCK3 in one batch: all or nothing; refused once provisioned.
    func burnIdentity(_ identity: IdentityBlock, masterKey: MasterKey) throws(HardwareError)
    /// `HKDF-SHA256(BLOCK3, purpose)`; `notProvisioned` while BLOCK3 is blank.
    func deriveKey(_ purpose: KeyPurpose) throws(HardwareError) -> SymmetricKey
    /// The three VDD_SDIO fuses.
    func vddSDIOFuses() throws(HardwareError) -> VDDSDIOFuses
    /// Burns all three VDD_SDIO fuses.
    func burnVDDSDIOFuses() throws(HardwareError)
    /// Probes every I2C peripheral once.
    func probePeripherals() -> [Peripheral]
    /// Puts a screen on the OLED.
    func display(_ screen: String)
    /// Waits for NTP; false when the clock cannot be synchronized.
    func synchronizeClock() async -> Bool
    /// Whether the network path to the cloud is up.
    var cloudReachable: Bool { get }
    /// A named point where simulated power loss can be injected; real hardware does nothing.
    func checkpoint(_ point: PowerCheckpoint)
}

extension Hardware {
    /// The `[{interface, mac_address}]` list of `/api/network` and the registration body, in FireFly's order.
    public var networkInterfaces: [NetworkInterface] {
        let macs = macAddresses
        return NetworkInterfaceName.allCases.compactMap { name in
            macs[name].map { NetworkInterface(interface: name.rawValue, macAddress: $0.description) }
        }
    }
}

/// Points in the agent's work where a simulated board can lose power.
public enum PowerCheckpoint: String, Sendable, Codable, CaseIterable {
    /// The pending-registration marker is written; the cloud has not been called.
    case registrationMarkerWritten = "registration-marker-written"
    /// The cloud accepted the registration; the marker is not yet removed.
    case registrationAccepted = "registration-accepted"
}

/// A network interface of the board, in FireFly's fixed order.
public enum NetworkInterfaceName: String, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
    case wifi, wifiAP = "wifi_ap", bluetooth, ethernet
}

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
        case chipModel = "chip_model", revision, cpuFreqMHz = "cpu_freq_mhz", chipCores = "chip_cores", sdkVersion = "sdk_version"
        case flashChipSize = "flash_chip_size", flashChipSpeedMHz = "flash_chip_speed", flashChipMode = "flash_chip_mode"
        case psramSize = "psram_size", chipFeatures = "chip_features"
    }

    /// An ESP32-D0WD-V3 with 16 MiB flash and 4 MiB PSRAM, as on FireFly controllers.
    public static let esp32 = MCUFacts(
        chipModel: "ESP32-D0WD-V3", revision: 3, cpuFreqMHz: 240, chipCores: 2, sdkVersion: "v4.4.7", flashChipSize: 16_777_216,
        flashChipSpeedMHz: 80, flashChipMode: "QIO", psramSize: 4_194_304, chipFeatures: ["WiFi-bgn", "BLE", "BT"])
}

/// An I2C peripheral and whether it answered its probe.
public struct Peripheral: Sendable, Codable, Equatable {
    /// What sits at the address.
    public enum Kind: String, Sendable, Codable {
        case input = "INPUT", output = "OUTPUT", temperature = "TEMPERATURE", oled = "OLED", nvs = "NVS"
    }

    public var address: UInt8
    public var kind: Kind
    public var online: Bool

    /// A peripheral.
    public init(address: UInt8, kind: Kind, online: Bool) {
        self.address = address
        self.kind = kind
        self.online = online
    }

    /// `0x%02X`, as FireFly prints addresses.
    public var addressText: String { String(format: "0x%02X", address) }

    /// FireFly's error-log text for this peripheral being offline (at most 21 characters).
    public var offlineEvent: String {
        switch kind {
        case .input: "Inpt ctl \(addressText) offline"
        case .output: "Out ctl \(addressText) offline"
        case .temperature: "Temp sen \(addressText) offline"
        case .oled: "OLED \(addressText) offline"
        case .nvs: "NVS offline"
        }
    }

    enum CodingKeys: String, CodingKey { case address, kind = "type", online }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .address)
        guard text.lowercased().hasPrefix("0x"), let address = UInt8(text.dropFirst(2), radix: 16) else {
            throw DecodingError.dataCorruptedError(forKey: .address, in: container, debugDescription: "address must be 0xNN")
        }
        self.address = address
        self.kind = try container.decode(Kind.self, forKey: .kind)
        self.online = try container.decode(Bool.self, forKey: .online)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(addressText, forKey: .address)
        try container.encode(kind, forKey: .kind)
        try container.encode(online, forKey: .online)
    }
}

/// The three fuses that lock VDD_SDIO at 3.3 V on W5500 boards.
public struct VDDSDIOFuses: Sendable, Equatable, Codable {
    public var xpdSDIOForce: Bool
    public var xpdSDIOReg: Bool
    public var vddSDIOTieh: Bool

    enum CodingKeys: String, CodingKey {
        case xpdSDIOForce = "XPD_SDIO_FORCE", xpdSDIOReg = "XPD_SDIO_REG", vddSDIOTieh = "VDD_SDIO_TIEH"
    }

    /// True when all three are burned.
    public var allBurned: Bool { xpdSDIOForce && xpdSDIOReg && vddSDIOTieh }
}

/// A hardware operation that failed.
public enum HardwareError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The identity is already burned; eFuse cannot be rewritten.
    case alreadyProvisioned
    /// No identity (or no master key) is burned yet.
    case notProvisioned
    /// Writing eFuse failed; nothing was burned.
    case efuseWriteFailed(String)
    /// The board's files cannot be read or written.
    case storage(String)

    public var description: String {
        switch self {
        case .alreadyProvisioned: "Device already provisioned; eFuse identity cannot be overwritten"
        case .notProvisioned: "Device identity not provisioned"
        case .efuseWriteFailed(let reason): "Error during eFuse write: \(reason)"
        case .storage(let reason): reason
        }
    }
}
