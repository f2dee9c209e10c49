import Crypto
import EmberCore
import Foundation
import Logging

/// How an agent behaves: where the cloud is, how it signs, how it retries.
public struct AgentConfiguration: Sendable {
    /// The cloud's base URL; overrides (and is saved to) the device config. Nil: use the device config.
    public var cloudURL: String?
    /// Signature version of cloud requests: v2 for Ember, v1 for a FireFly cloud.
    public var signature: SignatureVersion = .v2
    /// First retry delay of a pending registration, in seconds; doubles per attempt up to `retryCap`.
    public var retryBase: Double = 1
    /// Longest retry delay, in seconds.
    public var retryCap: Double = 60
    /// Seconds between automatic cloud backups (FireFly's `CLOUD_BACKUP_INTERVAL_SECONDS`); nil: the device
    /// config's `cloud_backup_interval_seconds`, else 86,400. The first attempt comes 30 s after boot, or after
    /// one interval when that is shorter.
    public var backupInterval: Double?
    /// The application's version, reported by `/api/version` and in the registration.
    public var version = "0.1.0"
    /// The application's commit.
    public var commit = "unknown"

    public init() {}
}

/// A failure the HW-Reg API reports with this status and `{"message": …}`.
public struct AgentError: Error, Equatable, Sendable {
    public let status: Int
    public let message: String
    /// Seconds to wait, for a 429.
    public var retryAfter: Int?
    /// The cloud's status, for a 502 about a cloud answer.
    public var cloudStatus: Int?

    init(_ status: Int, _ message: String, retryAfter: Int? = nil, cloudStatus: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
        self.cloudStatus = cloudStatus
    }

    static let notProvisioned = AgentError(409, "Device identity not provisioned")
    static let clockNotSynchronized = AgentError(503, "Clock not synchronized")
}

/// The registration status the agent holds in memory (`GET /api/registration`).
public enum RegistrationState: Equatable, Sendable {
    /// No check has run this session.
    case pending
    /// The last check (or registration) answered.
    case known(registered: Bool, checkedAt: Int64, cloudRoot: String)
    /// The last check failed with this message.
    case failed(message: String, checkedAt: Int64, cloudRoot: String)
}

/// Partition-table and peripheral checks of the current boot (`GET /api/checks`).
public struct CheckReport: Sendable, Codable, Equatable {
    public struct Section: Sendable, Codable, Equatable {
        public var passed: Bool
        public var problems: [String]
    }

    /// Both sections passed.
    public private(set) var passed: Bool
    public private(set) var partitions: Section
    public private(set) var peripherals: Section

    /// A report of the two sections.
    public init(partitions: Section, peripherals: Section) {
        self.passed = partitions.passed && peripherals.passed
        self.partitions = partitions
        self.peripherals = peripherals
    }
}

/// The device agent: HW-Reg on a board. It runs the boot sequence, holds the session's state and does what
/// the HW-Reg API asks.
public actor DeviceAgent {
    /// Config-partition file names.
    enum Files {
        static let pendingRegistration = "self-register-pending"
    }

    /// What the pending-registration marker holds, sealed with the board's config-partition key.
    struct PendingRegistration: Codable {
        var key: String
        var url: String
        var startedAt: Int64
        enum CodingKeys: String, CodingKey { case key, url, startedAt = "started_at" }
    }

    public nonisolated let configuration: AgentConfiguration
    public nonisolated let clock: any DeviceClock
    public nonisolated let tokens: VisualTokens
    public nonisolated let catalog: ProductCatalog
    private let openBoard: @Sendable () throws -> any Hardware
    let logger: Logger

    public private(set) var board: any Hardware
    public private(set) var log: EventLog
    public private(set) var registration: RegistrationState = .pending
    public private(set) var clockSynchronized = false
    public private(set) var checks = CheckReport(partitions: .init(passed: true, problems: []), peripherals: .init(passed: true, problems: []))
    public private(set) var peripherals: [Peripheral] = []
    private var bootUptime: Double = 0
    private var bootTime: Int64 = 0
    private var address = "not listening"
    private var registering = false
    private var session: Task<Void, Never>?
    private var tokenRotation: Task<Void, Never>?
    private var resume: Task<Void, Never>?
    private var backupSchedule: Task<Void, Never>?

    /// An agent for the board `openBoard` opens (again at every reboot).
    public init(
        configuration: AgentConfiguration = AgentConfiguration(), clock: any DeviceClock = SystemDeviceClock(),
        catalog: ProductCatalog = .bundled, logger: Logger = Logger(label: "ember.device"),
        openBoard: @escaping @Sendable () throws -> any Hardware
    ) throws {
        self.configuration = configuration
        self.clock = clock
        self.catalog = catalog
        self.logger = logger
        self.openBoard = openBoard
        self.tokens = VisualTokens(clock: clock)
        let board = try openBoard()
        self.board = board
        self.log = EventLog(partition: board.config)
    }

    // MARK: Boot

    /// Runs the boot sequence: fuses, checks, network, then (in the background) clock sync, the registration
    /// check and the resumption of a pending registration.
    public func boot() throws {
        board = try openBoard()
        log = EventLog(partition: board.config)
        bootUptime = clock.uptime()
        clockSynchronized = false
        registration = .pending
        tokens.reset()
        event(.info, "Event log started")
        logger.info("board booted", metadata: ["product": "\(board.product)"])

        let product = try? catalog.product(board.product)
        if product?.burnVDDSDIOFuses == true {
            do {
                if try !board.vddSDIOFuses().allBurned {
                    try board.burnVDDSDIOFuses()
                    event(.notify, "VDD_SDIO fuses burned")
                }
            } catch {
                event(.error, "VDD_SDIO burn fail")
                logger.error("VDD_SDIO burn failed: \(error)")
            }
        }
        runChecks(product: product)
        if let cloudURL = configuration.cloudURL { try saveCloudRoot(cloudURL) }
        refreshDisplay()

        LocalBackup(partition: board.config).repair()
        tokenRotation = Task { [weak self] in await self?.rotateTokens() }
        session = Task { [weak self] in await self?.runSession() }
        let interval = configuration.backupInterval ?? DeviceSettings.load(from: board.config).cloudBackupIntervalSeconds ?? 86_400
        backupSchedule = Task { [weak self] in await self?.runBackupSchedule(interval: interval) }
    }

    /// The HTTP server is up at `address`; shown on the OLED.
    public func serving(at address: String) {
        self.address = address
        event(.info, "Web server started")
        refreshDisplay()
    }

    /// `POST /api/mcu/reboot`: ends the board session and boots again (authorizations are lost).
    public func reboot() async throws {
        event(.notify, "Rebooting...")
        await stop()
        try boot()
    }

    /// Cancels the session's background work and waits for it.
    public func stop() async {
        let tasks = [session, tokenRotation, resume, backupSchedule].compactMap { $0 }
        session = nil
        tokenRotation = nil
        resume = nil
        backupSchedule = nil
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func runSession() async {
        guard await board.synchronizeClock(), !Task.isCancelled else {
            if !Task.isCancelled { event(.notify, "NTP sync fail") }
            return
        }
        clockSynchronized = true
        bootTime = clock.epochSeconds() - Int64(clock.uptime() - bootUptime)
        event(.info, "Clock synchronized")
        if let identity = try? board.identity() {
            await registrationAtBoot(identity: identity)
        }
    }

    private func registrationAtBoot(identity: IdentityBlock) async {
        if let pending = pendingRegistration() {
            event(.info, "Cloud reg resume")
            resume = Task { [weak self] in await self?.resumeRegistration(pending, identity: identity) }
        } else if let root = cloudRoot() {
            await checkRegistration(identity: identity, root: root)
        } else {
            registration = .failed(message: "No cloud configured; register with a url first", checkedAt: clock.epochSeconds(), cloudRoot: "")
        }
    }

    private func rotateTokens() async {
        while !Task.isCancelled {
            refreshDisplay()
            let left = tokens.current().secondsLeft
            do { try await Task.sleep(for: .milliseconds(Int(max(left, 0.05) * 1000))) } catch { return }
        }
    }

    // MARK: Checks

    private func runChecks(product: Product?) {
        var partitionProblems: [String] = []
        if let product {
            partitionProblems = Self.partitionProblems(expected: product.partitions, found: board.partitions)
        } else {
            partitionProblems = ["product \(board.product) is not in the catalog"]
        }
        if partitionProblems.isEmpty {
            log.resolve("Partition table bad")
        } else {
            event(.error, "Partition table bad")
            for problem in partitionProblems { logger.error("partition check: \(problem)") }
        }
        peripherals = board.probePeripherals() + [Peripheral(address: 0, kind: .nvs, online: true)]
        var peripheralProblems: [String] = []
        for peripheral in peripherals {
            if peripheral.online {
                log.resolve(peripheral.offlineEvent)
            } else {
                peripheralProblems.append("\(peripheral.kind.rawValue) at \(peripheral.addressText) is offline")
                event(.error, peripheral.offlineEvent)
            }
        }
        checks = CheckReport(
            partitions: .init(passed: partitionProblems.isEmpty, problems: partitionProblems),
            peripherals: .init(passed: peripheralProblems.isEmpty, problems: peripheralProblems))
    }

    /// Differences between the expected and the flashed partition table, position by position.
    static func partitionProblems(expected: [PartitionEntry], found: [PartitionEntry]) -> [String] {
        var problems: [String] = []
        if expected.count != found.count {
            problems.append("expected \(expected.count) partitions, found \(found.count)")
        }
        func describe(_ p: PartitionEntry) -> String {
            "\(p.label) type \(p.type)/\(p.subtype) at 0x\(String(p.address, radix: 16)) size 0x\(String(p.size, radix: 16))"
        }
        for (index, (want, have)) in zip(expected, found).enumerated() where want != have {
            problems.append("partition \(index): expected \(describe(want)), found \(describe(have))")
        }
        return problems
    }

    // MARK: Identity

    /// The burned identity; nil while blank.
    public func identity() throws -> IdentityBlock? {
        do { return try board.identity() } catch { throw AgentError(500, error.description) }
    }

    /// `POST /api/identity`: burns the UUID, the product and a fresh master key in one step.
    public func provision(_ request: IdentityRequest) throws {
        if try identity() != nil { throw AgentError(409, HardwareError.alreadyProvisioned.description) }
        let (uuid, productHex) = try request.validated()
        guard productHex == board.product else {
            throw AgentError(
                400, "Field product_hex \(productHex) does not match this board (\(board.product) \(board.product.productID)), see docs")
        }
        do {
            try board.burnIdentity(IdentityBlock(uuid: uuid, productHex: productHex), masterKey: .random())
        } catch .alreadyProvisioned {
            throw AgentError(409, HardwareError.alreadyProvisioned.description)
        } catch {
            logger.error("eFuse write failed: \(error)")
            throw AgentError(500, "Error during eFuse write")
        }
        event(.notify, "Wrote device identity")
        logger.notice("identity burned", metadata: ["uuid": "\(DeviceUUID.format(uuid))", "product": "\(productHex)"])
        refreshDisplay()
        // FireFly checks as soon as an identity and the time are there; so does Ember.
        if clockSynchronized, let identity = try? board.identity(), let root = cloudRoot() {
            resume = Task { [weak self] in await self?.checkRegistration(identity: identity, root: root) }
        }
    }

    // MARK: Registration

    /// `POST /api/registration`: registers with the cloud using a registration key.
    public func register(key: String?, url: String?) async throws {
        guard let identity = try identity() else { throw AgentError.notProvisioned }
        guard clockSynchronized else { throw AgentError.clockNotSynchronized }
        guard let key, key.count == 6 else { throw AgentError(400, WireError.registrationKeyHeader.message) }
        if let url { try Self.validateCloudURL(url) }
        guard let root = url ?? cloudRoot() else {
            throw AgentError(400, "Field url is required: this device has no cloud configured")
        }
        guard !registering else { throw AgentError(409, "Registration already in progress") }
        registering = true
        defer { registering = false }
        if let running = resume {
            running.cancel()
            await running.value
            resume = nil
        }

        let pending = PendingRegistration(key: key, url: root, startedAt: clock.epochSeconds())
        try writePending(pending)
        board.checkpoint(.registrationMarkerWritten)
        switch await cloud.register(identity: identity, key: key, root: root) {
        case .accepted:
            try finishRegistration(identity: identity, root: root)
            await checkRegistration(identity: identity, root: root)
        case .keyRefused:
            removePending()
            event(.notify, "Cloud reg fail")
            throw AgentError(403, "Invalid or expired registration key")
        case .refused(let status, let message):
            removePending()
            event(.notify, "Cloud reg fail")
            logger.warning("cloud refused the registration", metadata: ["status": "\(status)", "message": "\(message)"])
            throw AgentError(502, "Cloud registration request failed: \(message)")
        case .unavailable(let reason):
            event(.notify, "Cloud reg fail")
            logger.warning("registration failed; retrying in the background", metadata: ["reason": "\(reason)"])
            resume = Task { [weak self] in await self?.resumeRegistration(pending, identity: identity, startWithDelay: true) }
            throw AgentError(502, "Cloud registration request failed: \(reason); the device keeps retrying")
        }
    }

    var cloud: DeviceCloud {
        DeviceCloud(board: board, signature: configuration.signature, applicationVersion: configuration.version, clock: clock)
    }

    private func finishRegistration(identity: IdentityBlock, root: String) throws {
        board.checkpoint(.registrationAccepted)
        removePending()
        try saveCloudRoot(root)
        registration = .known(registered: true, checkedAt: clock.epochSeconds(), cloudRoot: root)
        event(.info, "Cloud registered")
        refreshDisplay()
    }

    /// Retries a pending registration until it is decided: capped exponential backoff with jitter, and before
    /// each try the signed check, so a device registered out of band finishes without spending the key.
    private func resumeRegistration(_ pending: PendingRegistration, identity: IdentityBlock, startWithDelay: Bool = false) async {
        var attempt = startWithDelay ? 1 : 0
        while !Task.isCancelled {
            if attempt > 0 {
                let delay = min(configuration.retryCap, configuration.retryBase * pow(2, Double(attempt - 1))) * Double.random(in: 0.5...1)
                do { try await Task.sleep(for: .milliseconds(Int(delay * 1000))) } catch { return }
            }
            attempt += 1
            // The out-of-band probe: a device the cloud already knows is done, and no key is spent.
            switch await cloud.check(identity: identity, root: pending.url) {
            case .registered:
                try? finishRegistration(identity: identity, root: pending.url)
                return
            case .notRegistered:
                break
            case .signatureRefused(let reason), .failed(let reason):
                if attempt == 1 || attempt % 10 == 0 { event(.notify, "Cloud reg fail") }
                logger.info("pending registration: cloud check failed; retrying", metadata: ["attempt": "\(attempt)", "reason": "\(reason)"])
                continue
            }
            switch await cloud.register(identity: identity, key: pending.key, root: pending.url) {
            case .accepted:
                try? finishRegistration(identity: identity, root: pending.url)
                await checkRegistration(identity: identity, root: pending.url)
                return
            case .keyRefused, .refused:
                removePending()
                event(.notify, "Cloud reg fail")
                registration = .failed(message: "Invalid or expired registration key", checkedAt: clock.epochSeconds(), cloudRoot: pending.url)
                return
            case .unavailable(let reason):
                if attempt == 1 || attempt % 10 == 0 { event(.notify, "Cloud reg fail") }
                logger.info("pending registration not done; retrying", metadata: ["attempt": "\(attempt)", "reason": "\(reason)"])
            }
        }
    }

    /// The signed registration check with its events; the result becomes the registration state.
    @discardableResult
    private func checkRegistration(identity: IdentityBlock, root: String) async -> DeviceCloud.Check {
        event(.info, "Cloud reg check")
        let result = await cloud.check(identity: identity, root: root)
        let now = clock.epochSeconds()
        switch result {
        case .registered:
            registration = .known(registered: true, checkedAt: now, cloudRoot: root)
            log.resolve("Cloud reg sig vf fail")
            event(.info, "Cloud registered")
        case .notRegistered:
            registration = .known(registered: false, checkedAt: now, cloudRoot: root)
        case .signatureRefused(let message):
            registration = .failed(message: message, checkedAt: now, cloudRoot: root)
            event(.error, "Cloud reg sig vf fail")
        case .failed(let message):
            registration = .failed(message: message, checkedAt: now, cloudRoot: root)
            event(.notify, "Cloud reg fail")
        }
        refreshDisplay()
        return result
    }

    /// `GET /api/registration`.
    public func registrationStatus() throws -> RegistrationState {
        guard try identity() != nil else { throw AgentError.notProvisioned }
        return registration
    }

    /// Whether a registration waits to be finished (the marker is on the config partition).
    public var registrationPending: Bool { board.config.exists(Files.pendingRegistration) }

    private func writePending(_ pending: PendingRegistration) throws {
        do {
            let sealed = try FFCEContainer.seal(try JSONEncoder().encode(pending), using: board.deriveKey(.configfs))
            try board.config.write(Files.pendingRegistration, sealed)
        } catch {
            throw AgentError(500, "Cannot write the registration marker: \(error)")
        }
    }

    private func pendingRegistration() -> PendingRegistration? {
        guard let sealed = try? board.config.read(Files.pendingRegistration) else { return nil }
        guard let key = try? board.deriveKey(.configfs), let plain = try? FFCEContainer.open(sealed, using: key),
            let pending = try? JSONDecoder().decode(PendingRegistration.self, from: plain)
        else {
            logger.error("the pending-registration marker is unreadable; removing it")
            removePending()
            return nil
        }
        return pending
    }

    private func removePending() {
        try? board.config.remove(Files.pendingRegistration)
    }

    // MARK: Configuration

    /// The cloud base URL from the device config.
    public func cloudRoot() -> String? {
        DeviceSettings.load(from: board.config).cloudAPIRoot
    }

    private func saveCloudRoot(_ root: String) throws {
        guard cloudRoot() != root else { return }
        do {
            var settings = DeviceSettings.load(from: board.config)
            settings.cloudAPIRoot = root
            try settings.save(to: board.config)
        } catch {
            throw AgentError(500, "Cannot save the cloud URL: \(error)")
        }
    }

    static func validateCloudURL(_ url: String) throws {
        guard DeviceSettings.isValidCloudURL(url) else { throw AgentError(400, "Field url must be an http:// or https:// URL") }
    }

    // MARK: Events and display

    /// Event time: epoch seconds once the clock is synchronized, seconds since boot before.
    public func eventTime() -> Int64 {
        clockSynchronized ? clock.epochSeconds() : Int64(clock.uptime() - bootUptime)
    }

    /// `boot_time` of `/api/mcu`: epoch seconds of the boot once the clock is synchronized, else seconds since boot.
    public func bootTimeValue() -> Int64 {
        clockSynchronized ? bootTime : Int64(clock.uptime() - bootUptime)
    }

    func event(_ level: EventLevel, _ text: String) {
        log.record(level, text, at: eventTime())
        logger.log(level: level == .error ? .error : level == .notify ? .notice : .info, "event: \(text)")
    }

    private func refreshDisplay() {
        let identity = try? board.identity()
        let wifi = board.macAddresses[.wifi]?.bytes.suffix(3).map { String(format: "%02X", $0) }.joined() ?? "000000"
        let state: String =
            switch registration {
            case .pending: identity == nil ? "not provisioned" : clockSynchronized ? "checking" : "waiting for NTP"
            case .known(let registered, _, _): registered ? "registered" : "not registered"
            case .failed(let message, _, _): "check failed (\(message))"
            }
        let lines = [
            "FireFly-\(wifi)",
            "IP: \(address)",
            "ETH: \(board.macAddresses[.ethernet]?.description ?? "-")",
            identity.map { "PID: \($0.productHex.productID)" } ?? "0x\(String(board.product.description.dropFirst(2)))",
            identity.map { "UUID: \(DeviceUUID.format($0.uuid))" } ?? "Unknown UUID",
            "Token: \(tokens.current().token)",
            "Cloud: \(state)",
        ]
        board.display(lines.joined(separator: "\n") + "\n")
    }
}
