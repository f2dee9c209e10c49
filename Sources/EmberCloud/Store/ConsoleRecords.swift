import EmberCore

/// A signed-in console session: found by the SHA-256 of its cookie, never by the cookie itself.
public struct ConsoleSessionRecord: Sendable, Equatable {
    public var idHash: String
    /// The token the operator signed in with; its role is the session's.
    public var token: AdminTokenRecord
    /// The form token every state-changing form must carry.
    public var csrf: String
    public var createdAt: Int64
    public var expiresAt: Int64
}

/// Registered and decommissioned devices of one product.
public struct ProductCount: Sendable, Equatable, Decodable {
    public var productHex: String
    public var productID: String
    public var registered: Int
    public var decommissioned: Int

    enum CodingKeys: String, CodingKey {
        case productHex = "product_hex"
        case productID = "product_id"
        case registered, decommissioned
    }
}

/// Registrations on one UTC day.
public struct DayCount: Sendable, Equatable, Decodable {
    /// Days since 1970-01-01 (UTC).
    public var day: Int64
    public var count: Int
}

/// What `GET /audit` and the console's audit page ask of the log.
public struct AuditQuery: Sendable, Equatable {
    public var limit: Int
    /// Rows with an id above this (oldest first) …
    public var after: Int64?
    /// … or below this (newest first).
    public var before: Int64?
    public var newestFirst = false
    /// Only rows with exactly this action (`device.registered`) or actor (`factory-line-3`).
    public var action: String?
    public var actor: String?

    public init(limit: Int, after: Int64? = nil, before: Int64? = nil, newestFirst: Bool = false, action: String? = nil, actor: String? = nil) {
        self.limit = limit
        self.after = after
        self.before = before
        self.newestFirst = newestFirst
        self.action = action
        self.actor = actor
    }
}

/// The admin console's sign-ins.
public protocol ConsoleRepository: Sendable {
    func createConsoleSession(_ session: ConsoleSessionRecord, audit: AuditEvent) async throws
    /// The session behind `idHash` if it has not expired at `now`, was not ended, and its token is not revoked.
    func consoleSession(idHash: String, now: Int64) async throws -> ConsoleSessionRecord?
    /// Ends a session (signing out); false when it had already ended.
    func endConsoleSession(idHash: String, now: Int64, audit: AuditEvent) async throws -> Bool
}
