import Crypto
import EmberCore
import Foundation

/// The device's configuration, schema v2 of lifecycle §4: one default and one validation rule per field. Stored as
/// `settings.json` on the config partition; the Wi-Fi password only sealed with the configfs key.
public struct DeviceConfig: Sendable, Equatable {
    /// The schema this firmware writes.
    public static let schemaVersion = 2

    public var cloudURL: String
    public var region = ""
    public var fleetID = ""
    public var wifi = WiFi()
    public var backupIntervalS = 86_400
    public var checkInIntervalS = 3_600
    public var ntpServers = ["pool.ntp.org"]
    public var display = Display()

    public struct WiFi: Sendable, Equatable {
        public var ssid: String
        /// The password sealed with the configfs key (FFCE, base64); nil when none is set.
        public var sealedPassword: String?

        public init(ssid: String = "", sealedPassword: String? = nil) {
            self.ssid = ssid
            self.sealedPassword = sealedPassword
        }
    }

    public struct Display: Sendable, Equatable {
        /// Seconds without a button press before the OLED goes back to its status page; 0: it stays.
        public var timeoutS: Int

        public init(timeoutS: Int = 300) {
            self.timeoutS = timeoutS
        }
    }

    /// The defaults: `cloudURL` is the firmware's default (`ember device init --cloud`), else empty.
    public init(cloudURL: String = "") {
        self.cloudURL = cloudURL
    }

    /// The configured cloud, nil when none is.
    public var cloud: String? { cloudURL.isEmpty ? nil : cloudURL }

    // MARK: Documents

    /// The stored file's object (the sealed password included).
    public var stored: [String: JSONValue] {
        var wifi: [String: JSONValue] = ["ssid": .string(self.wifi.ssid)]
        if let sealed = self.wifi.sealedPassword { wifi["password_sealed"] = .string(sealed) }
        return common.merging(["wifi": .object(wifi)]) { $1 }
    }

    /// What `GET /api/config` shows: no secret, `password_set` instead.
    public var redacted: [String: JSONValue] {
        common.merging(["wifi": .object(["ssid": .string(wifi.ssid), "password_set": .bool(wifi.sealedPassword != nil)])]) { $1 }
    }

    private var common: [String: JSONValue] {
        [
            "schema_version": .number(Double(Self.schemaVersion)),
            "cloud_url": .string(cloudURL),
            "region": .string(region),
            "fleet_id": .string(fleetID),
            "backup_interval_s": .number(Double(backupIntervalS)),
            "check_in_interval_s": .number(Double(checkInIntervalS)),
            "ntp_servers": .array(ntpServers.map { .string($0) }),
            "display": .object(["timeout_s": .number(Double(display.timeoutS))]),
        ]
    }

    /// The canonical file: compact JSON with sorted keys and a final newline.
    public var canonical: Data { Data((JSONValue.object(stored).text + "\n").utf8) }

    /// SHA-256 hex of the canonical file.
    public var hash: String { Self.hash(of: canonical) }

    /// SHA-256 hex of `data`.
    public static func hash(of data: Data) -> String {
        Hex.encode(SHA256.hash(data: data))
    }

    /// The names of the fields that differ from `other` (`wifi.password` for the secret, never its value).
    public func changedFields(from other: DeviceConfig) -> [String] {
        var fields: [String] = []
        if cloudURL != other.cloudURL { fields.append("cloud_url") }
        if region != other.region { fields.append("region") }
        if fleetID != other.fleetID { fields.append("fleet_id") }
        if wifi.ssid != other.wifi.ssid { fields.append("wifi.ssid") }
        if wifi.sealedPassword != other.wifi.sealedPassword { fields.append("wifi.password") }
        if backupIntervalS != other.backupIntervalS { fields.append("backup_interval_s") }
        if checkInIntervalS != other.checkInIntervalS { fields.append("check_in_interval_s") }
        if ntpServers != other.ntpServers { fields.append("ntp_servers") }
        if display != other.display { fields.append("display.timeout_s") }
        return fields
    }
}

/// Per-field reasons a configuration was refused, keyed by the field's dotted name.
public struct ConfigErrors: Error, Sendable, Equatable {
    public var fields: [String: String]

    public init(_ fields: [String: String] = [:]) {
        self.fields = fields
    }

    /// One line for logs and action results, fields in order.
    public var summary: String {
        "Invalid configuration: " + fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
    }
}
