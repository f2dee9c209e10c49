import Crypto
import EmberPKI

/// Everything `ember serve` can be told; the CLI fills it from flags, then `EMBER_*` variables, then these defaults.
public struct RegistryConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// `sqlite:PATH` (the folder is created).
    public var database = "sqlite:./ember-data/ember.sqlite"
    public var registrationKeyTTL: Int64 = 1_800
    public var signatureWindow: Int64 = 10
    public var requireSignatureV2 = false
    /// Creates an admin token with this value when the database has none (`EMBER_BOOTSTRAP_TOKEN`).
    public var bootstrapToken: String?
    public var failedAttemptLimit = 10
    public var failedAttemptWindow: Int64 = 60
    /// Proxies whose `X-Forwarded-For` names the client (for rate limits and the audit log).
    public var trustedProxies = TrustedProxies.none
    /// The `check_in_interval_s` of every check-in answer: devices call in at least this often (10 … 86,400).
    public var checkInInterval: Int64 = 3_600
    /// Log every request at info level.
    public var logRequests = true
    /// Seconds a connection may stay idle — no request, or a request whose head has not arrived — before it is
    /// closed (1 … 3,600).
    public var idleTimeout: Int64 = 30
    /// Backup bodies read at once (each up to 512 KiB); more get 503 with `Retry-After` (1 … 1,024).
    public var concurrentUploads = 16
    /// Console cookies carry `Secure`: set when browsers reach the registry over HTTPS (a TLS proxy in front).
    public var secureCookies = false
    /// Seals registration keys at rest (`EMBER_KEY_ENCRYPTION_KEY`, else `key-encryption.key` beside the database);
    /// nil gives a random one that lives as long as the process (in-process registries: tests, benchmarks).
    public var keyEncryptionKey: SymmetricKey?

    /// Whether an enrolling serial must be pre-registered.
    public var zeroTouch = ZeroTouchMode.allowList
    /// Signs device certificates (`DeviceCAFile`); nil gives one that lives as long as the process.
    public var deviceCA: CertificateAuthority?
    /// HTTPS: the server's certificate chain and key in PEM; nil serves plain HTTP.
    public var tls: TLSFiles?

    public init() {}
}

/// The PEM files `ember serve --tls-cert --tls-key` names.
public struct TLSFiles: Sendable, Equatable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}
