import EmberCore
import Foundation

extension DeviceConfig {
    /// How a document is read: a stored file must be complete and may hold the sealed password; a merged patch
    /// falls back to defaults for missing fields and may hold the plain password.
    public enum Source: Sendable {
        case stored
        case patch
    }

    /// Reads and validates a document. Returns the configuration and, from a patch, the new plain Wi-Fi password
    /// (sealing it is the caller's job); throws every field's problem at once.
    public static func parse(
        _ document: [String: JSONValue],
        as source: Source,
        defaults: DeviceConfig,
        allowInsecureCloud: Bool = false
    ) throws(ConfigErrors) -> (config: DeviceConfig, password: String?) {
        var reader = FieldReader(document: document, source: source)
        var config = defaults
        _ = reader.integer("schema_version", in: Self.schemaVersion...Self.schemaVersion, default: Self.schemaVersion)
        config.cloudURL =
            reader.string("cloud_url", default: defaults.cloudURL, rule: { Self.cloudURLProblem($0, allowInsecure: allowInsecureCloud) })
            ?? defaults.cloudURL
        config.region = reader.string("region", default: defaults.region, rule: ManufacturingFields.regionProblem) ?? defaults.region
        config.fleetID = reader.string("fleet_id", default: defaults.fleetID, rule: ManufacturingFields.fleetIDProblem) ?? defaults.fleetID
        config.backupIntervalS = reader.integer("backup_interval_s", in: 60...604_800, default: defaults.backupIntervalS) ?? defaults.backupIntervalS
        config.checkInIntervalS =
            reader.integer("check_in_interval_s", in: 10...86_400, default: defaults.checkInIntervalS) ?? defaults.checkInIntervalS
        config.ntpServers = reader.hostList("ntp_servers", default: defaults.ntpServers) ?? defaults.ntpServers
        var password: String?
        if var wifi = reader.object("wifi") {
            config.wifi.ssid = wifi.string("ssid", default: "", rule: Self.ssidProblem) ?? ""
            config.wifi.sealedPassword = nil
            switch source {
            case .stored:
                config.wifi.sealedPassword = wifi.string("password_sealed", default: nil) { Data(base64Encoded: $0) == nil ? "must be base64" : nil }
            case .patch:
                password = wifi.string("password", default: nil, rule: Self.passwordProblem)
                wifi.refuse("password_set", because: "is read-only; set wifi.password, or null to forget it")
            }
            reader.absorb(wifi)
        } else {
            config.wifi = DeviceConfig.WiFi()
        }
        if var display = reader.object("display") {
            config.display.timeoutS = display.integer("timeout_s", in: 0...3_600, default: defaults.display.timeoutS) ?? defaults.display.timeoutS
            reader.absorb(display)
        } else {
            config.display = defaults.display
        }
        if source == .patch { reader.refuse("hash", because: "is read-only") }
        reader.refuseTheRest()
        guard reader.errors.isEmpty else { throw ConfigErrors(reader.errors) }
        return (config, password)
    }

    /// Why a cloud URL is refused: `https://host…`, or `http://` to a loopback host only; empty means none.
    /// `allowInsecure` (`--allow-insecure-cloud`, for labs) lets `http://` reach any host.
    public static func cloudURLProblem(_ url: String, allowInsecure: Bool = false) -> String? {
        guard !url.isEmpty else { return nil }
        let problem = "must be an https:// URL (http:// only to 127.0.0.1, ::1 or localhost), or empty"
        guard url.utf8.count <= 512, !url.contains(where: \.isWhitespace), let parsed = URL(string: url), let host = parsed.host,
            !host.isEmpty
        else { return problem }
        switch parsed.scheme?.lowercased() {
        case "https": return nil
        case "http": return isLoopback(host) || allowInsecure ? nil : problem
        default: return problem
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    static func ssidProblem(_ value: String) -> String? {
        value.utf8.count <= 32 ? nil : "must be at most 32 bytes"
    }

    static func passwordProblem(_ value: String) -> String? {
        (8...63).contains(value.count) && value.unicodeScalars.allSatisfy({ (32...126).contains($0.value) })
            ? nil : "must be 8 to 63 printable ASCII characters (WPA2)"
    }

    /// Why a host name is refused (RFC 1123 labels, at most 253 characters).
    static func hostProblem(_ value: String) -> String? {
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            !value.isEmpty && value.count <= 253
            && labels.allSatisfy { label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
            }
        return valid ? nil : "must be a host name"
    }
}

/// Reads one object's fields, collecting a reason per bad field under its dotted name.
struct FieldReader {
    private var remaining: [String: JSONValue]
    private let prefix: String
    let source: DeviceConfig.Source
    private(set) var errors: [String: String] = [:]

    init(document: [String: JSONValue], source: DeviceConfig.Source, prefix: String = "") {
        self.remaining = document
        self.source = source
        self.prefix = prefix
    }

    /// Takes a field; nil (and an error for a stored file) when it is missing.
    private mutating func take(_ name: String, required: Bool) -> JSONValue? {
        guard let value = remaining.removeValue(forKey: name), value != .null else {
            if required && source == .stored { errors[prefix + name] = "is missing" }
            return nil
        }
        return value
    }

    mutating func string(_ name: String, default fallback: String?, rule: (String) -> String? = { _ in nil }) -> String? {
        guard let value = take(name, required: fallback != nil) else { return fallback }
        guard case .string(let text) = value else {
            errors[prefix + name] = "must be a string"
            return fallback
        }
        if let problem = rule(text) {
            errors[prefix + name] = problem
            return fallback
        }
        return text
    }

    mutating func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) -> Int? {
        guard let value = take(name, required: true) else { return fallback }
        let reason = range.count == 1 ? "must be \(range.lowerBound)" : "must be an integer from \(range.lowerBound) to \(range.upperBound)"
        guard case .number(let number) = value, number.rounded() == number, number >= Double(range.lowerBound), number <= Double(range.upperBound)
        else {
            errors[prefix + name] = reason
            return nil
        }
        return Int(number)
    }

    mutating func hostList(_ name: String, default fallback: [String]) -> [String]? {
        guard let value = take(name, required: true) else { return fallback }
        let hosts: [String]? =
            if case .array(let items) = value, (1...3).contains(items.count) {
                items.compactMap { item in
                    if case .string(let host) = item, DeviceConfig.hostProblem(host) == nil { host } else { nil }
                }
            } else {
                nil
            }
        guard let hosts, case .array(let items) = value, hosts.count == items.count else {
            errors[prefix + name] = "must be a list of 1 to 3 host names (letters, digits, '-' and '.')"
            return nil
        }
        return hosts
    }

    /// A nested object's reader; nil when the field is missing (or not an object, which is an error).
    mutating func object(_ name: String) -> FieldReader? {
        guard let value = take(name, required: true) else { return nil }
        guard case .object(let fields) = value else {
            errors[prefix + name] = "must be an object"
            return nil
        }
        return FieldReader(document: fields, source: source, prefix: prefix + name + ".")
    }

    /// Takes over a nested reader's errors, refusing its unknown fields.
    mutating func absorb(_ nested: FieldReader) {
        var nested = nested
        nested.refuseTheRest()
        errors.merge(nested.errors) { first, _ in first }
    }

    /// Refuses a field when present.
    mutating func refuse(_ name: String, because reason: String) {
        if remaining.removeValue(forKey: name) != nil { errors[prefix + name] = reason }
    }

    /// Every field not read is unknown.
    mutating func refuseTheRest() {
        for name in remaining.keys { errors[prefix + name] = "is not a configuration field" }
        remaining = [:]
    }
}
