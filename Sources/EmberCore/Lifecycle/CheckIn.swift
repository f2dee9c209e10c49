import Foundation

/// `POST /devices/{uuid}/check-in`: what the device reports; every field is optional.
public struct CheckInReport: Codable, Sendable, Equatable {
    public var firmwareVersion: String?
    public var configVersion: Int?
    public var configHash: String?
    public var keyEpoch: Int?
    public var state: String?
    public var uptimeS: Int64?

    enum CodingKeys: String, CodingKey {
        case firmwareVersion = "firmware_version"
        case configVersion = "config_version"
        case configHash = "config_hash"
        case keyEpoch = "key_epoch"
        case state
        case uptimeS = "uptime_s"
    }

    public init(
        firmwareVersion: String? = nil,
        configVersion: Int? = nil,
        configHash: String? = nil,
        keyEpoch: Int? = nil,
        state: String? = nil,
        uptimeS: Int64? = nil
    ) {
        self.firmwareVersion = firmwareVersion
        self.configVersion = configVersion
        self.configHash = configHash
        self.keyEpoch = keyEpoch
        self.state = state
        self.uptimeS = uptimeS
    }

    /// The report with its text fields checked: at most 64 characters each, printable ASCII.
    public func validated() throws(WireError) -> CheckInReport {
        for (name, value) in [("firmware_version", firmwareVersion), ("config_hash", configHash), ("state", state)] {
            guard let value else { continue }
            guard value.count <= 64, value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else {
                throw WireError("\(name) must be at most 64 printable ASCII characters")
            }
        }
        if let keyEpoch, keyEpoch < 0 { throw WireError("key_epoch must not be negative") }
        if let uptimeS, uptimeS < 0 { throw WireError("uptime_s must not be negative") }
        if let configVersion, configVersion < 0 { throw WireError("config_version must not be negative") }
        return self
    }
}

/// The registry's answer to a check-in: the unfinished actions, and how often to call in.
public struct CheckInReply: Codable, Sendable, Equatable {
    public var actions: [DeliveredAction]
    public var checkInIntervalS: Int64

    enum CodingKeys: String, CodingKey {
        case actions
        case checkInIntervalS = "check_in_interval_s"
    }

    public init(actions: [DeliveredAction], checkInIntervalS: Int64) {
        self.actions = actions
        self.checkInIntervalS = checkInIntervalS
    }
}

/// An action as a device receives it.
public struct DeliveredAction: Codable, Sendable, Equatable {
    public var id: Int64
    public var type: ActionType
    public var reason: String
    /// For `configure`: the JSON merge patch, as JSON text.
    public var config: JSONValue?

    public init(id: Int64, type: ActionType, reason: String, config: JSONValue? = nil) {
        self.id = id
        self.type = type
        self.reason = reason
        self.config = config
    }
}

/// What an admin can ask a device to do at its next check-in.
public enum ActionType: String, Codable, Sendable, CaseIterable {
    case decommission
    case rotateKey = "rotate-key"
    case factoryReset = "factory-reset"
    case configure
    case backupNow = "backup-now"

    /// The 400 message for any other type.
    public static let invalidMessage = "type must be one of \(allCases.map(\.rawValue).joined(separator: ", "))"
}

/// Where an action is in its life.
public enum ActionState: String, Codable, Sendable, CaseIterable {
    case pending, delivered, done, failed, cancelled

    /// Done, failed or cancelled: never delivered again.
    public var isFinished: Bool { self == .done || self == .failed || self == .cancelled }
}

/// An action as the admin API shows it.
public struct DeviceAction: Codable, Sendable, Equatable {
    public var id: Int64
    public var uuid: String
    public var type: ActionType
    public var state: ActionState
    public var reason: String
    public var config: JSONValue?
    public var createdAt: Int64
    public var createdBy: String
    public var deliveredAt: Int64?
    public var completedAt: Int64?
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case id, uuid, type, state, reason, config, detail
        case createdAt = "created_at"
        case createdBy = "created_by"
        case deliveredAt = "delivered_at"
        case completedAt = "completed_at"
    }

    public init(
        id: Int64,
        uuid: String,
        type: ActionType,
        state: ActionState,
        reason: String,
        config: JSONValue?,
        createdAt: Int64,
        createdBy: String,
        deliveredAt: Int64? = nil,
        completedAt: Int64? = nil,
        detail: String? = nil
    ) {
        self.id = id
        self.uuid = uuid
        self.type = type
        self.state = state
        self.reason = reason
        self.config = config
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.deliveredAt = deliveredAt
        self.completedAt = completedAt
        self.detail = detail
    }

    /// The form a device receives.
    public var delivered: DeliveredAction { DeliveredAction(id: id, type: type, reason: reason, config: config) }
}

/// `GET /devices/{uuid}/actions`.
public struct ActionList: Codable, Sendable, Equatable {
    public var actions: [DeviceAction]

    public init(actions: [DeviceAction]) {
        self.actions = actions
    }
}

/// `POST /devices/{uuid}/actions` (admin), as sent.
public struct ActionRequest: Codable, Sendable, Equatable {
    public var type: String?
    public var reason: String?
    public var config: JSONValue?

    public init(type: String?, reason: String? = nil, config: JSONValue? = nil) {
        self.type = type
        self.reason = reason
        self.config = config
    }

    /// The type, a reason of at most 200 characters, and a `config` object exactly for `configure`.
    public func validated() throws(WireError) -> (type: ActionType, reason: String, config: JSONValue?) {
        guard let text = type, let type = ActionType(rawValue: text) else { throw WireError(ActionType.invalidMessage) }
        let reason = reason ?? ""
        guard reason.unicodeScalars.count <= 200 else { throw WireError("reason must be at most 200 characters") }
        switch (type, config) {
        case (.configure, .object?): return (type, reason, config)
        case (.configure, _): throw WireError("config must be a JSON object (a merge patch) for a configure action")
        case (_, nil), (_, .null?): return (type, reason, nil)
        case (_, _?): throw WireError("config is only allowed for a configure action")
        }
    }
}

/// `POST /devices/{uuid}/actions/{id}/result`, as sent.
public struct ActionResultRequest: Codable, Sendable, Equatable {
    public var status: String?
    public var detail: String?

    public init(status: String?, detail: String? = nil) {
        self.status = status
        self.detail = detail
    }

    /// `done` or `failed`, with a detail of at most 500 characters.
    public func validated() throws(WireError) -> (status: ActionState, detail: String) {
        guard let status, let state = ActionState(rawValue: status), state == .done || state == .failed else {
            throw WireError("status must be done or failed")
        }
        let detail = detail ?? ""
        guard detail.unicodeScalars.count <= 500 else { throw WireError("detail must be at most 500 characters") }
        return (state, detail)
    }
}

/// A device's last check-in: when, and what it reported.
public struct LastCheckIn: Sendable, Equatable {
    /// Unix seconds.
    public var at: Int64
    public var report: CheckInReport

    public init(at: Int64, report: CheckInReport) {
        self.at = at
        self.report = report
    }
}
