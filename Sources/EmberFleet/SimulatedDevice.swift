import EmberCore
import Foundation

/// A device identity held in memory: what a simulated FireFly controller would have in eFuse.
public struct SimulatedDevice: Sendable {
    public let uuid: UUID
    public let master: MasterKey
    public let productHex: ProductHex

    public init(uuid: UUID = UUID(), master: MasterKey = .random(), productHex: ProductHex = ProductHex(0x0806_2305)) {
        self.uuid = uuid
        self.master = master
        self.productHex = productHex
    }

    /// The FireFly registration body this device would send, MCU facts of an ESP32-D0WD-V3 board.
    public func registrationBody(partitions: [PartitionEntry] = SimulatedDevice.defaultPartitions) throws -> RegistrationRequest {
        let macs = DeviceUUID.bytes(of: uuid).suffix(5)
        func mac(_ last: UInt8) -> String { MACAddress(bytes: [0x24] + macs.prefix(4) + [last])?.description ?? "" }
        return RegistrationRequest(
            uuid: DeviceUUID.format(uuid),
            productID: productHex.productID,
            productHex: productHex.description,
            deviceClass: "CONTROLLER",
            publicKey: try master.publicKey().base64,
            registeringApplication: "Hardware Registration and Configuration",
            registeringVersion: "0.1.0",
            mcu: MCUInfo(
                model: "ESP32-D0WD-V3",
                revision: 3,
                cpuFreqMHz: 240,
                cores: 2,
                flashChipSize: 16_777_216,
                flashChipSpeed: 80,
                flashChipMode: "QIO",
                psramSize: 4_194_304,
                features: ["WiFi-bgn", "BLE", "BT"],
                idfVersion: "v4.4.7"
            ),
            network: [
                NetworkInterface(interface: "wifi", macAddress: mac(0x01)), NetworkInterface(interface: "wifi_ap", macAddress: mac(0x02)),
                NetworkInterface(interface: "bluetooth", macAddress: mac(0x03)), NetworkInterface(interface: "ethernet", macAddress: mac(0x04)),
            ],
            partitions: partitions
        )
    }

    /// Signature headers for one request by this device.
    public func sign(
        method: String,
        path: String,
        body: Data = Data(),
        version: SignatureVersion = .v2,
        at time: DeviceTimestamp
    ) throws
        -> RequestSigner.Headers
    {
        try RequestSigner.sign(master: master, uuid: uuid, version: version, method: method, path: path, body: body, at: time)
    }

    /// The FFC0806-2305 partition table (the catalog's first product), for devices built without a catalog.
    public static let defaultPartitions: [PartitionEntry] = [
        PartitionEntry(type: 1, subtype: 2, address: 0x9000, size: 0x5000, label: "nvs"),
        PartitionEntry(type: 1, subtype: 0, address: 0xE000, size: 0x2000, label: "otadata"),
        PartitionEntry(type: 0, subtype: 16, address: 0x10000, size: 0x640000, label: "app0"),
        PartitionEntry(type: 0, subtype: 17, address: 0x650000, size: 0x640000, label: "app1"),
        PartitionEntry(type: 1, subtype: 130, address: 0xC90000, size: 0x80000, label: "config"),
        PartitionEntry(type: 1, subtype: 130, address: 0xD10000, size: 0x2E0000, label: "ui"),
        PartitionEntry(type: 1, subtype: 3, address: 0xFF0000, size: 0x10000, label: "coredump"),
    ]
}
