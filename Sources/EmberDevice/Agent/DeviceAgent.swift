import EmberCore
import Foundation
import Logging
import NIOPosix

/// The device agent: HW-Reg and the Controller's backup on a board. It runs boot sessions, holds the session's
/// state and does what the HTTP API asks. Its background work runs inside `run()` (the `DeviceAgentService`).
public actor DeviceAgent {
    /// Config-partition file names.
    enum Files {
        static let pendingRegistration = "self-register-pending"
        static let pendingDecommission = "decommission-pending"
        /// Not secret: when and why the board was decommissioned (the factory state keeps it).
        static let decommissioned = "decommissioned.json"
        /// The ids and results of the actions this device finished.
        static let finishedActions = "actions-done.json"
        /// Field provisioning's step in progress (or its failure), sealed: it holds the Wi-Fi password and the claim
        /// token until they are used.
        static let provisioning = "provisioning.json"
    }

    /// What the session loop is told to do next.
    enum SessionCommand: Sendable {
        case start(SessionJob)
        case reboot
    }

    public nonisolated let configuration: AgentConfiguration
    public nonisolated let clock: any DeviceClock
    public nonisolated let tokens: VisualTokens
    public nonisolated let catalog: ProductCatalog
    let openBoard: @Sendable () throws -> any Hardware
    let logger: Logger

    public internal(set) var board: any Hardware
    public internal(set) var log: EventLog
    public internal(set) var registration: RegistrationState = .pending
    public internal(set) var clockSynchronized = false
    public internal(set) var checks = CheckReport(
        partitions: .init(passed: true, problems: []),
        peripherals: .init(passed: true, problems: [])
    )
    public internal(set) var peripherals: [Peripheral] = []
    var bootUptime: Double = 0
    var bootTime: Int64 = 0
    var address = "not listening"
    var registering = false
    /// Zero-touch enrollment (lifecycle §6) as `GET /api/zero-touch` shows it.
    public internal(set) var zeroTouch = ZeroTouchStatus()
    /// Field provisioning (lifecycle §7) as `GET /api/provisioning` shows it.
    public internal(set) var provisioning = ProvisioningStatus()
    /// The board has a network: it is wired, or it joined its Wi-Fi this session.
    public internal(set) var networkUp = true

    /// The commands of the booted session, consumed by `runSession()`; nil before the first boot.
    var commands: (stream: AsyncStream<SessionCommand>, continuation: AsyncStream<SessionCommand>.Continuation)?
    /// The session's registration work (a retry loop or a check), which a new registration replaces.
    var registrationJob: SessionJob?
    /// The session's check-in loop; at most one runs.
    var checkInJob: SessionJob?
    /// The board was decommissioned: this session runs in the factory state.
    public internal(set) var decommissioned = false
    var decommissioning = false
    var rotating = false
    /// The configuration in force, loaded at boot.
    public internal(set) var config = DeviceConfig()
    /// The stored configuration is from a newer firmware (this schema version): it is left untouched.
    var configRefusedVersion: Int?
    /// The last factory test's result; nil before it ran.
    public internal(set) var factoryTest: FactoryTestReport?
    /// Factory test runs started; the newest one's result is kept.
    var factoryTestRuns = 0
    /// The OLED page shown, and when the button was last pressed (uptime seconds).
    public internal(set) var displayPage = DisplayPage.status
    var lastButtonPress: Double = 0
    /// Callers of `reboot()` waiting for the next boot.
    var bootWaiters: [CheckedContinuation<Void, any Error>] = []

    /// An agent for the board `openBoard` opens (again at every reboot).
    public init(
        configuration: AgentConfiguration = AgentConfiguration(),
        clock: any DeviceClock = SystemDeviceClock(),
        catalog: ProductCatalog = .bundled,
        logger: Logger = Logger(label: "ember.device"),
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

    /// Hands work to the running session as a child task; dropped (and abandoned) when no session runs.
    func start(_ job: SessionJob) {
        guard let commands, case .enqueued = commands.continuation.yield(.start(job)) else {
            job.abandon()
            return
        }
    }

    /// Replaces the session's registration work with `work`, after cancelling and awaiting the old one.
    func replaceRegistrationJob(with work: (@Sendable () async -> Void)?) async {
        if let running = registrationJob {
            registrationJob = nil
            running.cancel()
            await running.finished()
        }
        guard let work else { return }
        let job = SessionJob(work)
        registrationJob = job
        start(job)
    }

    /// The wait before retry `attempt` (from 1) of work the cloud has not answered: capped exponential backoff with
    /// jitter.
    func retryDelay(attempt: Int) -> Double {
        min(configuration.retryCap, configuration.retryBase * pow(2, Double(attempt - 1))) * Double.random(in: 0.5...1)
    }

    /// The burned identity; nil while blank.
    public func identity() throws(AgentFailure) -> IdentityBlock? {
        do { return try board.identity() } catch { throw .hardware(error) }
    }

    /// The burned identity; `notProvisioned` while blank.
    func requireIdentity() throws(AgentFailure) -> IdentityBlock {
        guard let identity = try identity() else { throw .notProvisioned }
        return identity
    }

    /// Runs blocking file work (atomic writes with their fsyncs) on NIO's I/O thread pool, never on one of Swift's
    /// cooperative threads.
    func offload<T: Sendable>(_ work: @escaping @Sendable () throws(HardwareError) -> T) async throws(AgentFailure) -> T {
        do {
            return try await NIOThreadPool.singleton.runIfActive { () throws -> T in try work() }
        } catch let error as HardwareError {
            throw .hardware(error)
        } catch {
            throw .hardware(.storage("the I/O thread pool is not running"))
        }
    }

    /// The calls to the cloud, with this session's board.
    var cloud: DeviceCloud {
        DeviceCloud(board: board, signature: configuration.signature, applicationVersion: firmwareVersion, clock: clock, online: networkUp)
    }

    /// The version of the firmware running: the flashed one (`ember device flash`), else the agent's.
    public var firmwareVersion: String {
        board.firmwareVersion ?? configuration.version
    }
}
