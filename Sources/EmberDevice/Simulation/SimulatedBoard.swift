import Crypto
import EmberCore
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A FireFly controller simulated in a folder (`ember device init`):
///
/// - `board.json`: the product, MACs, MCU facts, partition table, peripherals and injected faults;
/// - `efuse.bin`: BLOCK1, BLOCK3 and the VDD_SDIO fuses, write-once per bit, replaced atomically;
/// - `config/`: the config partition; `display.txt`: the OLED's current screen.
public final class SimulatedBoard: Hardware {
    /// What `board.json` holds.
    public struct Specification: Codable, Sendable, Equatable {
        public var productHex: ProductHex
        public var macAddresses: [NetworkInterfaceName: String]
        public var mcu: MCUFacts
        public var partitions: [PartitionEntry]
        public var peripherals: [Peripheral]
        public var faults: Faults
        /// The flashed firmware's version (`ember device flash`); nil: the agent's own.
        public var firmwareVersion: String?
        /// The firmware's built-in cloud URL (`ember device init --cloud`).
        public var defaultCloudURL: String?
        /// The simulated world's Wi-Fi networks in range, SSID → password (`ember device init --wifi-network`). A
        /// board with none is wired; one with any reaches the network only once it joined one of them.
        public var wifiNetworks: [String: String]?

        enum CodingKeys: String, CodingKey {
            case productHex = "product_hex"
            case macAddresses = "mac_addresses"
            case mcu, partitions, peripherals, faults
            case firmwareVersion = "firmware_version"
            case defaultCloudURL = "default_cloud_url"
            case wifiNetworks = "wifi_networks"
        }
    }

    /// Faults injected into the simulation (`ember device fault`).
    public struct Faults: Codable, Sendable, Equatable {
        /// Seconds the simulated NTP sync takes.
        public var clockSyncDelaySeconds: Double = 0
        /// NTP never answers: the clock stays unsynchronized.
        public var clockNeverSyncs = false
        /// The network path to the cloud is down.
        public var cloudUnreachable = false
        /// The next eFuse write loses power half-way (then the fault clears).
        public var failNextEFuseWrite = false
        /// The board loses power (the process is killed with SIGKILL) at this point, once.
        public var powerLossAt: PowerCheckpoint?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case clockSyncDelaySeconds = "clock_sync_delay_seconds"
            case clockNeverSyncs = "clock_never_syncs"
            case cloudUnreachable = "cloud_unreachable"
            case failNextEFuseWrite = "fail_next_efuse_write"
            case powerLossAt = "power_loss_at"
        }
    }

    public let folder: URL
    public let specification: Specification
    public let config: ConfigPartition
    private let logger: Logger
    /// The eFuse image, read from `efuse.bin` once per session (this board object) and kept in step with every
    /// burn; `faultArmed` while a `failNextEFuseWrite` fault waits. The lock also serializes read-modify-write burns.
    private let efuse: Mutex<(image: EFuseImage?, faultArmed: Bool)>

    public var product: ProductHex { specification.productHex }
    public var mcu: MCUFacts { specification.mcu }
    public var partitions: [PartitionEntry] { specification.partitions }
    public var cloudReachable: Bool { !specification.faults.cloudUnreachable }
    public var firmwareVersion: String? { specification.firmwareVersion }
    public var defaultCloudURL: String { specification.defaultCloudURL ?? "" }
    public var macAddresses: [NetworkInterfaceName: MACAddress] {
        specification.macAddresses.compactMapValues { MACAddress($0) }
    }

    var boardFile: URL { folder.appendingPathComponent("board.json") }
    var efuseFile: URL { folder.appendingPathComponent("efuse.bin") }
    /// The file the OLED screen is mirrored to.
    public var displayFile: URL { folder.appendingPathComponent("display.txt") }

    /// Creates a blank board of `product` in `folder` (which must not hold a board yet), with random MACs.
    @discardableResult
    public static func create(
        product: Product,
        in folder: URL,
        wrongPartitionTable: Bool = false,
        defaultCloudURL: String? = nil,
        wifiNetworks: [String: String] = [:]
    ) throws -> SimulatedBoard {
        let board = folder.appendingPathComponent("board.json")
        guard !FileManager.default.fileExists(atPath: board.path) else {
            throw HardwareError.storage("\(folder.path) already holds a board; pick another folder")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Espressif's OUI and a random base; the other interfaces follow the ESP32's base+n rule.
        let base: [UInt8] = [0x24, 0x0A, 0xC4, .random(in: 0...255), .random(in: 0...255), .random(in: 0...0xFB)]
        var macs: [NetworkInterfaceName: String] = [:]
        for (offset, interface) in [NetworkInterfaceName.wifi, .wifiAP, .bluetooth, .ethernet].enumerated() {
            macs[interface] = MACAddress(bytes: base.dropLast() + [base[5] + UInt8(offset)])!.description
        }
        let specification = Specification(
            productHex: product.productHex,
            macAddresses: macs,
            mcu: .esp32,
            partitions: wrongPartitionTable ? Self.wrongTable(product.partitions) : product.partitions,
            peripherals: product.peripherals,
            faults: Faults(),
            defaultCloudURL: defaultCloudURL,
            wifiNetworks: wifiNetworks.isEmpty ? nil : wifiNetworks
        )
        try Self.save(specification, to: board)
        try AtomicFile.write(Data(EFuseImage().bytes), to: folder.appendingPathComponent("efuse.bin"))
        return try open(folder)
    }

    /// Opens the board in `folder`.
    public static func open(_ folder: URL, logger: Logger = Logger(label: "ember.device")) throws -> SimulatedBoard {
        let file = folder.appendingPathComponent("board.json")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw HardwareError.storage("no board in \(folder.path); create one with `ember device init --product ID --dir \(folder.path)`")
        }
        do {
            let specification = try JSONDecoder().decode(Specification.self, from: data)
            return try SimulatedBoard(folder: folder, specification: specification, logger: logger)
        } catch let error as HardwareError {
            throw error
        } catch {
            throw HardwareError.storage("\(file.path) is not a board description: \(error)")
        }
    }

    private init(folder: URL, specification: Specification, logger: Logger) throws {
        self.folder = folder
        self.specification = specification
        self.config = try ConfigPartition(folder: folder.appendingPathComponent("config"))
        self.logger = logger
        self.efuse = Mutex((nil, specification.faults.failNextEFuseWrite))
    }

    deinit {
        efuse.withLock { $0.image?.wipe() }
    }

    /// Changes the stored description (faults, peripherals, partitions); a running agent sees it at its next boot.
    public static func update(_ folder: URL, _ change: (inout Specification) throws -> Void) throws {
        let board = try open(folder)
        var specification = board.specification
        try change(&specification)
        try save(specification, to: board.boardFile)
    }

    private static func save(_ specification: Specification, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(specification), to: url)
    }

    /// A partition table the check must refuse: the last data partition shrunk by 64 KiB.
    public static func wrongTable(_ table: [PartitionEntry]) -> [PartitionEntry] {
        var table = table
        if let index = table.lastIndex(where: { $0.type == 1 && $0.subtype == 130 }) { table[index].size -= 0x10000 }
        return table
    }

    // MARK: eFuse

    /// The session's eFuse image, loaded on first use.
    func readImage() throws(HardwareError) -> EFuseImage {
        try efuse.withLock { state throws(HardwareError) in
            if let image = state.image { return image }
            let image = try loadImage()
            state.image = image
            return image
        }
    }

    /// Reads `efuse.bin` through a wiped buffer, so the master key is not left in freed memory.
    private func loadImage() throws(HardwareError) -> EFuseImage {
        let descriptor = POSIX.open(efuseFile.path, O_RDONLY | O_CLOEXEC)
        let missing = HardwareError.storage("the eFuse file is missing or not \(EFuseImage.byteCount) bytes")
        guard descriptor >= 0 else { throw missing }
        defer { close(descriptor) }
        let buffer = SecretBytes(count: EFuseImage.byteCount + 1)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count == EFuseImage.byteCount, let image = buffer.withUnsafeBytes({ EFuseImage(bytes: Array($0.prefix(count))) }) else {
            throw missing
        }
        return image
    }

    /// Programs bits, all regions in one atomic replacement of the eFuse file.
    private func burn(_ program: (inout EFuseImage) throws(HardwareError) -> Void) throws(HardwareError) {
        try efuse.withLock { state throws(HardwareError) in
            var image: EFuseImage
            if let cached = state.image { image = cached } else { image = try loadImage() }
            try program(&image)
            if state.faultArmed {
                state.faultArmed = false
                try? SimulatedBoard.update(folder) { $0.faults.failNextEFuseWrite = false }
                // Power fails with half the new image in a temporary file; the eFuse file itself is untouched.
                _ = FileManager.default.createFile(atPath: AtomicFile.temporaryURL(for: efuseFile).path, contents: Data(image.bytes.prefix(20)))
                throw .efuseWriteFailed("power lost during the write (injected fault)")
            }
            try AtomicFile.write(Data(image.bytes), to: efuseFile)
            state.image = image
        }
    }

    public func identity() throws(HardwareError) -> IdentityBlock? {
        IdentityBlock(block: try readImage().read(.block1))
    }

    public func burnIdentity(_ identity: IdentityBlock, masterKey: MasterKey) throws(HardwareError) {
        try burn { image throws(HardwareError) in
            guard image.isBlank(.block1), image.isBlank(.block3) else { throw .alreadyProvisioned }
            image.program(.block1, bits: identity.block)
            masterKey.withUnsafeBytes { image.program(.block3, from: $0) }
        }
    }

    public func deriveKey(_ purpose: KeyPurpose) throws(HardwareError) -> SymmetricKey {
        let image = try readImage()
        guard !image.isBlank(.block3) else { throw .notProvisioned }
        do {
            return try image.withRegion(.block3) { try MasterKey(bytes: $0) }.derive(purpose)
        } catch {
            throw .keyDerivationFailed
        }
    }

    public func vddSDIOFuses() throws(HardwareError) -> VDDSDIOFuses {
        let bits = try readImage().read(.vddSDIO)[0]
        return VDDSDIOFuses(xpdSDIOForce: bits & 1 != 0, xpdSDIOReg: bits & 2 != 0, vddSDIOTieh: bits & 4 != 0)
    }

    public func burnVDDSDIOFuses() throws(HardwareError) {
        try burn { image in image.program(.vddSDIO, bits: [0b111]) }
    }

    // MARK: Peripherals, display, clock, faults

    /// Probes now: a peripheral taken offline (`ember device fault --offline`) since boot answers no more.
    public func probePeripherals() -> [Peripheral] {
        guard let data = FileManager.default.contents(atPath: boardFile.path),
            let current = try? JSONDecoder().decode(Specification.self, from: data)
        else { return specification.peripherals }
        return current.peripherals
    }

    public func display(_ screen: String) {
        try? AtomicFile.write(Data(screen.utf8), to: displayFile, durable: false)
        // The visual token authorizes whoever reads it: the screen shows it, the log does not.
        let lines = screen.split(separator: "\n").map { $0.hasPrefix("Token: ") ? "Token: ******" : String($0) }
        logger.info("OLED: \(lines.joined(separator: " | "))")
    }

    /// The simulated world's NTP answers for any server list unless the fault says otherwise.
    public func synchronizeClock(_ clock: any DeviceClock, servers: [String]) async -> Bool {
        logger.debug("NTP sync", metadata: ["ember.ntp.servers": "\(servers.joined(separator: ","))"])
        if specification.faults.clockNeverSyncs { return false }
        let delay = specification.faults.clockSyncDelaySeconds
        if delay > 0 {
            do { try await clock.sleep(for: delay, on: .clockSync) } catch { return false }
        }
        return true
    }

    /// A heap that moves a little between calls, as on a running ESP32; PSRAM less the firmware's buffers.
    public func memory() -> MemoryStatus {
        MemoryStatus(freeHeap: 180_000 + Int.random(in: 0..<4_096), freePSRAM: mcu.psramSize - 1_310_720 + Int.random(in: 0..<4_096))
    }

    public var usesWiFi: Bool { !(specification.wifiNetworks ?? [:]).isEmpty }

    /// The simulated world's networks, as `board.json` holds them now (a network added since boot is in range).
    public func joinWiFi(ssid: String, password: String?) async -> WiFiJoin {
        let current = (try? Data(contentsOf: boardFile)).flatMap { try? JSONDecoder().decode(Specification.self, from: $0) }
        guard let expected = (current ?? specification).wifiNetworks?[ssid] else { return .notFound }
        return expected == (password ?? "") ? .joined : .authenticationFailed
    }

    public func checkpoint(_ point: PowerCheckpoint) {
        guard specification.faults.powerLossAt == point else { return }
        try? SimulatedBoard.update(folder) { $0.faults.powerLossAt = nil }
        logger.warning("simulated power loss at \(point.rawValue)")
        kill(getpid(), SIGKILL)
    }
}
