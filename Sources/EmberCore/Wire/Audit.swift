/// An audit-log row as read back.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int64
    /// Unix seconds.
    public var at: Int64
    /// A token name, `device:<uuid>`, `cli:<user>` or `anonymous`.
    public var actor: String
    public var client: String
    public var action: String
    public var subject: String
    public var detail: String

    public init(id: Int64, at: Int64, actor: String, client: String, action: String, subject: String, detail: String) {
        self.id = id
        self.at = at
        self.actor = actor
        self.client = client
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}

/// `200` of `GET /audit`: one page, and the id to continue after when there may be more.
public struct AuditPage: Codable, Sendable, Equatable {
    public var entries: [AuditEntry]
    public var nextAfter: Int64?

    enum CodingKeys: String, CodingKey {
        case entries
        case nextAfter = "next_after"
    }

    public init(entries: [AuditEntry], nextAfter: Int64?) {
        self.entries = entries
        self.nextAfter = nextAfter
    }
}
