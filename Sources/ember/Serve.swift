import ArgumentParser
import EmberCloud
import EmberPKI
import Logging

/// `ember serve`: the cloud registry.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the cloud registry (embedded SQLite by default).",
        discussion: "Each option falls back to its EMBER_* variable, then to the default shown."
    )

    @Option(help: "Address to listen on. [env: EMBER_HOST] (default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one. [env: EMBER_PORT] (default: 8080)")
    var port: Int?

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Lifetime of a registration key in seconds. [env: EMBER_REGISTRATION_KEY_TTL_SECONDS] (default: 1800)")
    var registrationKeyTTL: Int?

    @Option(help: "Accepted clock skew of signed requests, ± seconds. [env: EMBER_SIGNATURE_WINDOW_SECONDS] (default: 10)")
    var signatureWindow: Int?

    @Option(help: "check_in_interval_s of every check-in answer, 10…86400. [env: EMBER_CHECK_IN_INTERVAL_SECONDS] (default: 3600)")
    var checkInInterval: Int?

    @Flag(help: "Refuse FireFly v1 signatures. [env: EMBER_REQUIRE_SIGNATURE_V2]")
    var requireSignatureV2 = false

    @Option(help: "Load balancers to believe X-Forwarded-For from: CIDR list, e.g. 10.0.0.0/8,::1. [env: EMBER_TRUSTED_PROXIES]")
    var trustedProxies: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. [env: EMBER_LOG_LEVEL] (default: info)")
    var logLevel: Logger.Level?

    @Flag(help: "Do not log every request.")
    var quiet = false

    @Option(
        help:
            "Seconds before an idle connection (or one whose request head never arrives) is closed, 1…3600. [env: EMBER_IDLE_TIMEOUT_SECONDS] (default: 30)"
    )
    var idleTimeout: Int?

    @Flag(
        help:
            "Mark console cookies Secure: set it when browsers reach the registry over HTTPS (a TLS proxy in front). [env: EMBER_SECURE_COOKIES]"
    )
    var secureCookies = false

    @Option(help: "Backup uploads read at once (each up to 512 KiB); more get 503, 1…1024. [env: EMBER_CONCURRENT_UPLOADS] (default: 16)")
    var concurrentUploads: Int?

    @Option(
        help:
            "File of the key that seals registration keys at rest, created 0600 if missing; EMBER_KEY_ENCRYPTION_KEY (Base64 of 32 bytes) overrides it. [env: EMBER_KEY_ENCRYPTION_KEY_FILE] (default: key-encryption.key beside the SQLite database, else ./ember-data/)"
    )
    var keyEncryptionKeyFile: String?

    @Option(help: "Serve HTTPS with this certificate chain (PEM); needs --tls-key. Console cookies become Secure. [env: EMBER_TLS_CERT]")
    var tlsCert: String?

    @Option(help: "The private key (PEM) of --tls-cert. [env: EMBER_TLS_KEY]")
    var tlsKey: String?

    @Option(
        help:
            "Zero-touch enrollment: allow-list (a serial must be pre-registered) or any-trusted (any certificate under a trusted root). [env: EMBER_ZERO_TOUCH] (default: allow-list)"
    )
    var zeroTouch: String?

    @Option(
        help:
            "File of the device CA that signs device certificates (certificate and key, 0600), created if missing; instances on one database must share it. [env: EMBER_DEVICE_CA_FILE] (default: device-ca.private.pem in the data folder)"
    )
    var deviceCAFile: String?

    func run() async throws {
        var configuration = RegistryConfiguration()
        configuration.host = host ?? Environment.string("EMBER_HOST") ?? configuration.host
        configuration.port = try port ?? Environment.integer("EMBER_PORT") ?? configuration.port
        configuration.database = database.resolved
        configuration.registrationKeyTTL = Int64(
            try registrationKeyTTL ?? Environment.integer("EMBER_REGISTRATION_KEY_TTL_SECONDS") ?? Int(configuration.registrationKeyTTL)
        )
        configuration.signatureWindow = Int64(
            try signatureWindow ?? Environment.integer("EMBER_SIGNATURE_WINDOW_SECONDS") ?? Int(configuration.signatureWindow)
        )
        configuration.checkInInterval = Int64(
            try checkInInterval ?? Environment.integer("EMBER_CHECK_IN_INTERVAL_SECONDS") ?? Int(configuration.checkInInterval)
        )
        guard (10...86_400).contains(configuration.checkInInterval) else { throw ValidationError("the check-in interval must be 10…86400 seconds") }
        configuration.idleTimeout = Int64(try idleTimeout ?? Environment.integer("EMBER_IDLE_TIMEOUT_SECONDS") ?? Int(configuration.idleTimeout))
        guard (1...3_600).contains(configuration.idleTimeout) else { throw ValidationError("the idle timeout must be 1…3600 seconds") }
        configuration.concurrentUploads = try concurrentUploads ?? Environment.integer("EMBER_CONCURRENT_UPLOADS") ?? configuration.concurrentUploads
        guard (1...1_024).contains(configuration.concurrentUploads) else { throw ValidationError("concurrent uploads must be 1…1024") }
        configuration.requireSignatureV2 = try requireSignatureV2 || (Environment.flag("EMBER_REQUIRE_SIGNATURE_V2") ?? false)
        configuration.bootstrapToken = Environment.string("EMBER_BOOTSTRAP_TOKEN")
        configuration.secureCookies = try secureCookies || (Environment.flag("EMBER_SECURE_COOKIES") ?? false)
        do {
            configuration.keyEncryptionKey = try KeyEncryptionKey.load(
                value: Environment.string("EMBER_KEY_ENCRYPTION_KEY"),
                file: keyEncryptionKeyFile ?? Environment.string("EMBER_KEY_ENCRYPTION_KEY_FILE")
                    ?? KeyEncryptionKey.defaultFile(database: configuration.database)
            )
        } catch let failure as KeyEncryptionKey.Failure {
            throw ValidationError(failure.description)
        }
        let mode = zeroTouch ?? Environment.string("EMBER_ZERO_TOUCH") ?? ZeroTouchMode.allowList.rawValue
        guard let zeroTouchMode = ZeroTouchMode(rawValue: mode) else { throw ValidationError("--zero-touch must be allow-list or any-trusted") }
        configuration.zeroTouch = zeroTouchMode
        switch (tlsCert ?? Environment.string("EMBER_TLS_CERT"), tlsKey ?? Environment.string("EMBER_TLS_KEY")) {
        case (nil, nil): break
        case (let certificate?, let key?):
            configuration.tls = TLSFiles(certificateChain: certificate, privateKey: key)
            configuration.secureCookies = true
        default: throw ValidationError("--tls-cert and --tls-key go together")
        }
        do {
            configuration.deviceCA = try DeviceCAFile.load(
                file: deviceCAFile ?? Environment.string("EMBER_DEVICE_CA_FILE") ?? DeviceCAFile.defaultFile(database: configuration.database)
            )
        } catch let failure as PKIError {
            throw ValidationError(failure.description)
        }
        configuration.logRequests = !quiet
        do {
            configuration.trustedProxies = try TrustedProxies(trustedProxies ?? Environment.string("EMBER_TRUSTED_PROXIES") ?? "")
        } catch let error as RegistryError {
            throw ValidationError(error.message)
        }
        guard (0...65_535).contains(configuration.port) else { throw ValidationError("port must be 0…65535") }
        guard (1...31_536_000).contains(configuration.registrationKeyTTL) else {
            throw ValidationError("the registration key TTL must be 1…31536000 seconds (a year)")
        }
        guard (1...3_600).contains(configuration.signatureWindow) else { throw ValidationError("the signature window must be 1…3600 seconds") }
        let level =
            try logLevel ?? Environment.string("EMBER_LOG_LEVEL").map {
                guard let level = Logger.Level(rawValue: $0) else { throw ValidationError("EMBER_LOG_LEVEL: unknown level '\($0)'") }
                return level
            } ?? .info
        let logger = LoggingSetup.bootstrap(level: level)
        try await RegistryServer.run(configuration: configuration, logger: logger)
    }
}
