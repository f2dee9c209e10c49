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
    /// The flashed firmware's version; nil: the agent's own version.
    var firmwareVersion: String? { get }
    /// The cloud URL built into the firmware (the configuration's default), or empty.
    var defaultCloudURL: String { get }

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
    /// Waits for NTP (`servers`, from the configuration) on `clock`; false when the clock cannot be synchronized.
    func synchronizeClock(_ clock: any DeviceClock, servers: [String]) async -> Bool
    /// Free heap and PSRAM now, in bytes.
    func memory() -> MemoryStatus
    /// Whether the network path to the cloud is up (once the board has a network: wired, or Wi-Fi joined).
    var cloudReachable: Bool { get }
    /// The board reaches the network only over Wi-Fi, which it must join first (field provisioning, lifecycle §7);
    /// false for a wired board.
    var usesWiFi: Bool { get }
    /// Joins the Wi-Fi network `ssid` with `password` (nil for an open network).
    func joinWiFi(ssid: String, password: String?) async -> WiFiJoin
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
    /// Zero-touch: the pending marker is written; the registry has not been called.
    case enrollmentMarkerWritten = "enrollment-marker-written"
    /// Zero-touch: the registry enrolled the device; its certificate is not yet saved.
    case enrollmentAccepted = "enrollment-accepted"
    /// `Decommissioning` is logged; nothing is written or erased yet.
    case decommissionLogged = "decommission-logged"
    /// The sealed decommission-pending marker is written; the registry has not been told.
    case decommissionMarkerWritten = "decommission-marker-written"
    /// The registry acknowledged the notice; nothing is erased yet.
    case decommissionNotified = "decommission-notified"
    /// The config partition is wiped; the marker (when the notice is still owed) and the factory state remain.
    case decommissionWiped = "decommission-wiped"
    /// A rotation's new key is written as pending; the registry has not seen it.
    case rotationPendingWritten = "rotation-pending-written"
    /// The registry accepted the new key as pending; the device still signs with the old one.
    case rotationSubmitted = "rotation-submitted"
    /// The new key is the current one; the registry has not seen it used (it is still pending there).
    case rotationCurrent = "rotation-current"
    /// Field provisioning: the registry bound the device to the account; the device has not recorded it yet.
    case claimAccepted = "claim-accepted"
    /// A configuration change is complete in a temporary file; `settings.json` is still the old one.
    case configTemporaryWritten = "config-temporary-written"
    /// The new `settings.json` is in place; its last-known-good copy and history entry are not written yet.
    case configWritten = "config-written"
}

/// How joining a Wi-Fi network went.
public enum WiFiJoin: Sendable, Equatable {
    case joined
    /// No network of that SSID is in range.
    case notFound
    /// The network refused the password.
    case authenticationFailed
}

/// A network interface of the board, in FireFly's fixed order.
public enum NetworkInterfaceName: String, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
    case wifi
    case wifiAP = "wifi_ap"
    case bluetooth, ethernet
}

/// The three fuses that lock VDD_SDIO at 3.3 V on W5500 boards.
public struct VDDSDIOFuses: Sendable, Equatable, Codable {
    public var xpdSDIOForce: Bool
    public var xpdSDIOReg: Bool
    public var vddSDIOTieh: Bool

    enum CodingKeys: String, CodingKey {
        case xpdSDIOForce = "XPD_SDIO_FORCE"
        case xpdSDIOReg = "XPD_SDIO_REG"
        case vddSDIOTieh = "VDD_SDIO_TIEH"
    }

    /// True when all three are burned.
    public var allBurned: Bool { xpdSDIOForce && xpdSDIOReg && vddSDIOTieh }
}

/// Free memory as `/api/mcu` reports it.
public struct MemoryStatus: Sendable, Equatable {
    public var freeHeap: Int
    public var freePSRAM: Int

    public init(freeHeap: Int, freePSRAM: Int) {
        self.freeHeap = freeHeap
        self.freePSRAM = freePSRAM
    }
}
