import EmberCore

/// How an agent behaves: where the cloud is, how it signs, how it retries.
public struct AgentConfiguration: Sendable {
    /// The cloud's base URL; saved to the device configuration at boot (a local change). Nil: the configuration's.
    public var cloudURL: String?
    /// Signature version of cloud requests: v2 for Ember, v1 for a FireFly cloud.
    public var signature: SignatureVersion = .v2
    /// First retry delay of a pending registration, in seconds; doubles per attempt up to `retryCap`.
    public var retryBase: Double = 1
    /// Longest retry delay, in seconds.
    public var retryCap: Double = 60
    /// Seconds between automatic cloud backups (FireFly's `CLOUD_BACKUP_INTERVAL_SECONDS`); nil: the device
    /// configuration's `backup_interval_s`. The first attempt comes 30 s after boot, or after one interval when
    /// that is shorter.
    public var backupInterval: Double?
    /// Seconds between check-ins; nil: the device configuration's `check_in_interval_s`. The registry's answer may
    /// lower it, never below 10.
    public var checkInInterval: Double?
    /// Seconds before an idle HTTP connection (or one whose request head never arrives) is closed.
    public var idleTimeout: Double = 30
    /// Web origins (`https://tools.example.com`) whose pages may call the API from a browser; `*` allows any, as
    /// FireFly firmware does. Empty: only pages the agent serves itself, so a page elsewhere cannot spend an
    /// operator's token attempts.
    public var allowedOrigins: [String] = []
    /// Accept `http://` cloud URLs to any host (labs); without it only loopback may be plain HTTP.
    public var allowInsecureCloud = false
    /// The application's version, reported by `/api/version` and in the registration.
    public var version = "0.1.0"
    /// The application's commit.
    public var commit = "unknown"

    public init() {}
}
