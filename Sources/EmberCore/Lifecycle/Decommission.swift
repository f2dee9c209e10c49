/// `POST /devices/{uuid}/decommission`: the device's notice that it decommissioned itself (or is doing so).
public struct DecommissionNotice: Codable, Sendable, Equatable {
    /// One entry of the device's log, carried into the audit row.
    public struct LogEntry: Codable, Sendable, Equatable {
        public var time: Int64
        public var level: String
        public var text: String

        public init(time: Int64, level: String, text: String) {
            self.time = time
            self.level = level
            self.text = text
        }
    }

    public var reason: String?
    public var actionID: Int64?
    public var events: [LogEntry]?

    enum CodingKeys: String, CodingKey {
        case reason, events
        case actionID = "action_id"
    }

    public init(reason: String?, actionID: Int64? = nil, events: [LogEntry]? = nil) {
        self.reason = reason
        self.actionID = actionID
        self.events = events
    }

    /// Most log entries a notice may carry.
    public static let maxEvents = 200

    /// `local` or `remote`, at most 200 entries of at most 64 characters.
    public func validated() throws(WireError) -> DecommissionNotice {
        guard reason == "local" || reason == "remote" else { throw WireError("reason must be local or remote") }
        let events = events ?? []
        guard events.count <= Self.maxEvents else { throw WireError("events must hold at most \(Self.maxEvents) entries") }
        for (index, event) in events.enumerated() where event.text.count > 64 || event.level.count > 16 {
            throw WireError("events[\(index)] is too long (text at most 64 characters)")
        }
        return self
    }
}

/// `200` of the decommission notice.
public struct DecommissionAcknowledged: Codable, Sendable, Equatable {
    /// Unix seconds; the same for every repeat of the notice.
    public var decommissionedAt: Int64

    enum CodingKeys: String, CodingKey {
        case decommissionedAt = "decommissioned_at"
    }

    public init(decommissionedAt: Int64) {
        self.decommissionedAt = decommissionedAt
    }
}
