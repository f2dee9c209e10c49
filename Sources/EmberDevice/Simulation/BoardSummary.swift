import EmberCore
import Foundation

/// What `ember device show` prints: identity, fuses, checks, faults and registration state; never the key.
public struct BoardSummary: Encodable, Sendable {
    public var folder: String
    public var product: String
    public var productHex: String
    public var provisioned: Bool
    public var uuid: String?
    public var macAddresses: [String: String]
    public var vddSDIOFuses: VDDSDIOFuses
    public var offlinePeripherals: [String]
    public var partitionTableMatches: Bool
    public var cloudAPIRoot: String?
    /// The flashed firmware's version (`ember device flash`); nil: the agent's own.
    public var firmwareVersion: String?
    public var registrationPending: Bool
    /// The board was decommissioned (it is in the factory state).
    public var decommissioned: Bool
    /// The registry still has to be told of the decommission.
    public var decommissionPending: Bool
    /// The epoch of the key in use (0: FireFly's derived key); nil when the key file does not open.
    public var keyEpoch: Int?
    /// A rotation's key waits to be sent or used.
    public var rotationPending: Bool
    public var lastCloudEvent: Event?
    public var faults: SimulatedBoard.Faults
    /// The SSIDs of the simulated world's Wi-Fi networks (empty: a wired board); never their passwords.
    public var wifiNetworks: [String]
    /// The configured Wi-Fi network; nil when none is.
    public var wifiSSID: String?

    enum CodingKeys: String, CodingKey {
        case folder, product
        case productHex = "product_hex"
        case provisioned, uuid
        case macAddresses = "mac_addresses"
        case vddSDIOFuses = "vdd_sdio_fuses"
        case offlinePeripherals = "offline_peripherals"
        case partitionTableMatches = "partition_table_matches"
        case cloudAPIRoot = "cloud_api_root"
        case firmwareVersion = "firmware_version"
        case registrationPending = "registration_pending"
        case decommissioned
        case decommissionPending = "decommission_pending"
        case keyEpoch = "key_epoch"
        case rotationPending = "rotation_pending"
        case lastCloudEvent = "last_cloud_event"
        case faults
        case wifiNetworks = "wifi_networks"
        case wifiSSID = "wifi_ssid"
    }

    /// Reads the board's state from its files.
    public init(board: SimulatedBoard, catalog: ProductCatalog = .bundled) throws {
        let identity = try board.identity()
        folder = board.folder.path
        productHex = board.product.description
        product = (try? catalog.product(board.product).productID) ?? board.product.productID
        provisioned = identity != nil
        uuid = identity.map { DeviceUUID.format($0.uuid) }
        macAddresses = Dictionary(uniqueKeysWithValues: board.macAddresses.map { ($0.key.rawValue, $0.value.description) })
        vddSDIOFuses = try board.vddSDIOFuses()
        offlinePeripherals = board.specification.peripherals.filter { !$0.online }.map { "\($0.kind.rawValue) \($0.addressText)" }
        let expected = (try? catalog.product(board.product).partitions) ?? []
        partitionTableMatches = DeviceAgent.partitionProblems(expected: expected, found: board.partitions).isEmpty
        var store = ConfigStore(partition: board.config, defaults: DeviceConfig(cloudURL: board.defaultCloudURL))
        store.allowInsecureCloud = true  // a tool looking at a board at rest shows what is there
        let config = store.peek()
        cloudAPIRoot = config.cloud
        wifiNetworks = (board.specification.wifiNetworks ?? [:]).keys.sorted()
        wifiSSID = config.wifi.ssid.isEmpty ? nil : config.wifi.ssid
        firmwareVersion = board.firmwareVersion
        registrationPending = board.config.exists(DeviceAgent.Files.pendingRegistration)
        decommissioned = board.config.exists(DeviceAgent.Files.decommissioned)
        decommissionPending = board.config.exists(DeviceAgent.Files.pendingDecommission)
        keyEpoch = identity == nil ? 0 : try? DeviceKeyStore(board: board).currentEpoch()
        rotationPending = board.config.exists(DeviceKeyStore.pending)
        lastCloudEvent = EventLog(partition: board.config).events.last { $0.text.hasPrefix("Cloud reg") }
        faults = board.specification.faults
    }

    /// The summary as aligned lines.
    public var text: String {
        var lines = [
            "board        \(folder)",
            "product      \(product) (\(productHex))",
            "identity     \(uuid.map { "provisioned, uuid \($0)" } ?? "not provisioned (eFuse BLOCK1 blank)")",
            "VDD_SDIO     \(vddSDIOFuses.allBurned ? "burned (3.3 V locked)" : "not burned")",
            "partitions   \(partitionTableMatches ? "match the catalog" : "DO NOT match the catalog")",
            "peripherals  \(offlinePeripherals.isEmpty ? "all online" : "offline: " + offlinePeripherals.joined(separator: ", "))",
            "cloud        \(cloudAPIRoot ?? "not configured")",
            "network      "
                + (wifiNetworks.isEmpty
                    ? "wired"
                    : "Wi-Fi \(wifiSSID ?? "not configured (field provisioning)"); in range: \(wifiNetworks.joined(separator: ", "))"),
            "firmware     \(firmwareVersion ?? "the agent's own version")",
            "registration \(registrationPending ? "pending (the agent resumes it at boot)" : "no registration pending")"
                + (lastCloudEvent.map { "; last cloud event '\($0.text)' at \($0.time)" } ?? ""),
            "lifecycle    "
                + (decommissioned
                    ? "decommissioned (factory state)\(decommissionPending ? "; the registry is told at the next boot" : "")"
                    : decommissionPending ? "decommission under way (finished at the next boot)" : "in service"),
            "key          epoch \(keyEpoch.map(String.init) ?? "unreadable")\(rotationPending ? ", rotation pending" : "")",
        ]
        for name in NetworkInterfaceName.allCases {
            if let mac = macAddresses[name.rawValue] { lines.append("mac          \(name.rawValue) \(mac)") }
        }
        var faultList: [String] = []
        if faults.clockNeverSyncs { faultList.append("clock never syncs") }
        if faults.clockSyncDelaySeconds > 0 { faultList.append("clock sync takes \(faults.clockSyncDelaySeconds) s") }
        if faults.cloudUnreachable { faultList.append("cloud unreachable") }
        if faults.failNextEFuseWrite { faultList.append("next eFuse write fails") }
        if let point = faults.powerLossAt { faultList.append("power loss at \(point.rawValue)") }
        lines.append("faults       \(faultList.isEmpty ? "none" : faultList.joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }
}
