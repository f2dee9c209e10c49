import EmberCore
import EmberHTTP
import EmberPKI
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The registry's services, wired once; tests and the server build the router from the same value.
public struct Registry: Sendable {
    public let store: any Store
    public let clock: any RegistryClock
    public let metrics: EmberMetrics
    public let tokens: AdminTokens
    public let keys: RegistrationKeys
    let registration: RegistrationService
    let authenticator: DeviceAuthenticator
    let devices: Devices
    let backups: Backups
    let lifecycle: Lifecycle
    let onboarding: Onboarding
    let accounts: Accounts
    let checkIns = CheckInLedger()
    let authAudit: AuthFailureAudit
    /// Failed registration keys and failed bearer tokens per client (separate counts).
    let limiter: any FailureCounter
    let trustedProxies: TrustedProxies
    let consoleSessions: ConsoleSessions
    let secureCookies: Bool
    /// Every guard with expiring entries: the in-memory ones, or the shared tables on PostgreSQL.
    let guards: [any Sweepable]

    public init(
        configuration: RegistryConfiguration,
        store: any Store,
        clock: any RegistryClock = SystemClock(),
        metrics: EmberMetrics = EmberMetrics()
    ) {
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.tokens = AdminTokens(store: store, clock: clock)
        let sealer = configuration.keyEncryptionKey.map(RegistrationKeySealer.init(keyEncryptionKey:)) ?? .ephemeral()
        self.keys = RegistrationKeys(store: store, clock: clock, ttl: configuration.registrationKeyTTL, metrics: metrics, sealer: sealer)
        // Nonces live in the database (they must outlive a restart). Failure counts are shared through it by
        // instances on one PostgreSQL database; a lone instance counts in memory.
        let limiter: any FailureCounter
        let authAudit = AuthFailureAudit(store: store)
        let tables = SharedGuardTables(store: store, failureWindow: configuration.failedAttemptWindow)
        if store.isShared {
            limiter = SharedFailureCounter(store: store, limit: configuration.failedAttemptLimit, window: configuration.failedAttemptWindow)
            self.guards = [tables, authAudit]
        } else {
            let memoryLimiter = FailureLimiter(limit: configuration.failedAttemptLimit, window: configuration.failedAttemptWindow)
            limiter = memoryLimiter
            self.guards = [memoryLimiter, tables, authAudit]
        }
        self.registration = RegistrationService(store: store, clock: clock, limiter: limiter, metrics: metrics, sealer: sealer)
        self.limiter = limiter
        self.authAudit = authAudit
        self.authenticator = DeviceAuthenticator(
            store: store,
            clock: clock,
            window: SignatureWindow(seconds: configuration.signatureWindow),
            requireV2: configuration.requireSignatureV2,
            metrics: metrics,
            audit: authAudit
        )
        self.devices = Devices(store: store, ledger: checkIns)
        self.lifecycle = Lifecycle(
            store: store,
            clock: clock,
            metrics: metrics,
            ledger: checkIns,
            checkInInterval: configuration.checkInInterval
        )
        self.backups = Backups(
            store: store,
            clock: clock,
            metrics: metrics,
            uploadSlots: UploadSlots(limit: configuration.concurrentUploads, metrics: metrics)
        )
        self.onboarding = Onboarding(
            store: store,
            clock: clock,
            window: SignatureWindow(seconds: configuration.signatureWindow),
            mode: configuration.zeroTouch,
            deviceCA: configuration.deviceCA ?? Self.ephemeralDeviceCA(clock: clock),
            metrics: metrics
        )
        self.accounts = Accounts(store: store, clock: clock, limiter: limiter, metrics: metrics)
        self.trustedProxies = configuration.trustedProxies
        self.consoleSessions = ConsoleSessions(store: store, tokens: tokens, limiter: limiter, clock: clock)
        self.secureCookies = configuration.secureCookies
    }

    /// A device CA that lives as long as the process (in-process registries: tests, benchmarks).
    static func ephemeralDeviceCA(clock: any RegistryClock) -> CertificateAuthority {
        // A fresh P-256 key and a well-formed name cannot fail to make a certificate.
        try! CertificateAuthority.root(commonName: "Ember device CA (ephemeral)", now: Date(timeIntervalSince1970: TimeInterval(clock.now())))
    }

    /// The service that sweeps this registry's guards.
    func guardSweeper(logger: Logger) -> GuardSweeper {
        GuardSweeper(guards: guards, clock: clock, logger: logger)
    }

    /// The service that writes check-ins in batches.
    func checkInWriter(logger: Logger) -> CheckInWriter {
        CheckInWriter(ledger: checkIns, store: store, logger: logger)
    }

    /// The check-in writer, for a service group of the caller's.
    public func checkInWriterService(logger: Logger) -> any Service {
        checkInWriter(logger: logger)
    }

    /// Writes the check-ins held in memory now (tests; the writer does it every second).
    public func flushCheckIns() async throws {
        try await checkIns.flush(to: store)
    }

    /// Every route of the contract behind Ember's middleware.
    public func buildRouter(logRequests: Bool = false) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        router.addMiddleware {
            ObservabilityMiddleware(metrics: metrics, logLevel: logRequests ? .info : nil)
            ErrorRenderingMiddleware(tooLargeMessage: "Request body too large", map: APIError.registry)
            if !trustedProxies.blocks.isEmpty { ClientAddressMiddleware(proxies: trustedProxies) }
        }
        OperationsController(health: Health(store: store), metrics: metrics).addRoutes(to: router)
        DeviceRegistrationController(registration: registration).addRoutes(to: router)
        DeviceController(
            authenticator: authenticator,
            devices: devices,
            backups: backups,
            lifecycle: lifecycle,
            onboarding: onboarding,
            accounts: accounts
        )
        .addRoutes(to: router)
        let onboardingRoutes = OnboardingController(onboarding: onboarding, audit: authAudit)
        onboardingRoutes.addPublicRoutes(to: router)
        let admin = router.group().add(
            middleware: AdminAuthMiddleware(tokens: tokens, metrics: metrics, audit: authAudit, limiter: limiter, clock: clock)
        )
        RegistrationKeyController(keys: keys).addRoutes(to: admin.group("registration-keys"))
        AdminController(devices: devices, audit: AuditLog(store: store)).addRoutes(to: admin)
        ActionController(lifecycle: lifecycle).addRoutes(to: admin)
        onboardingRoutes.addRoutes(to: admin)
        AccountController(accounts: accounts).addRoutes(to: admin)
        addConsole(to: router)
        return router
    }

    /// The admin console under `/console`: sign-in and assets open, every other page behind a session.
    private func addConsole(to router: Router<AppRequestContext>) {
        let pages = ConsolePages()
        let audit = AuditLog(store: store)
        let console = router.group("console").add(middleware: SecurityHeadersMiddleware()).add(middleware: ConsoleErrorMiddleware(pages: pages))
        let controller = ConsoleController(
            sessions: consoleSessions,
            keys: keys,
            devices: devices,
            audit: audit,
            pages: pages,
            clock: clock,
            secureCookies: secureCookies
        )
        controller.addPublicRoutes(to: console)
        let signedIn = console.group().add(middleware: ConsoleAuthMiddleware(sessions: consoleSessions, pages: pages))
        controller.addRoutes(to: signedIn)
        ConsoleDevicesController(devices: devices, lifecycle: lifecycle, admin: AdminController(devices: devices, audit: audit), pages: pages)
            .addRoutes(to: signedIn)
        ConsoleAdminController(audit: audit, tokens: tokens, accounts: accounts, pages: pages).addRoutes(to: signedIn)
        ConsoleOnboardingController(onboarding: onboarding, pages: pages).addRoutes(to: signedIn)
        ConsoleAccountController(accounts: accounts, pages: pages, clock: clock).addRoutes(to: signedIn)
    }
}
