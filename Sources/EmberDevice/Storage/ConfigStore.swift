import EmberCore
import Foundation

/// One accepted configuration change, as `GET /api/config/history` shows it: field names and hashes, never values.
public struct ConfigChange: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable {
        case local, remote, reset, migration
    }

    public var time: Int64
    public var source: Source
    public var fields: [String]
    public var oldHash: String
    public var newHash: String

    public init(time: Int64, source: Source, fields: [String], oldHash: String, newHash: String) {
        self.time = time
        self.source = source
        self.fields = fields
        self.oldHash = oldHash
        self.newHash = newHash
    }

    enum CodingKeys: String, CodingKey {
        case time, source, fields
        case oldHash = "old_hash"
        case newHash = "new_hash"
    }
}

/// The configuration's files on the config partition: `settings.json`, its last-known-good copy (written at each
/// accepted change), the file refused at boot (`settings.bad.json`), the change history, and v1's `device.json`.
public struct ConfigStore: Sendable {
    public static let file = "settings.json"
    public static let lastKnownGood = "settings.good.json"
    public static let refused = "settings.bad.json"
    public static let history = "config-history.json"
    /// Schema v1: FireFly-era `device.json`, migrated at boot.
    public static let version1 = "device.json"
    /// History entries kept (and shown).
    public static let historyKept = 100

    public let partition: ConfigPartition
    /// The defaults, with the firmware's cloud URL.
    public let defaults: DeviceConfig
    /// Accept a stored `http://` cloud URL to any host (`--allow-insecure-cloud`).
    public var allowInsecureCloud = false

    public init(partition: ConfigPartition, defaults: DeviceConfig) {
        self.partition = partition
        self.defaults = defaults
    }

    /// What the boot-time load found.
    public enum Outcome: Sendable, Equatable {
        /// No file: the defaults (first boot, or after a reset that removed it).
        case firstBoot
        case loaded
        /// An older schema was migrated (and written back).
        case migrated(from: Int)
        /// The file could not be used; it is kept as `settings.bad.json`. `restored`: the last-known-good copy is
        /// in force (and written back), else the defaults.
        case invalid(reason: String, restored: Bool)
        /// The file is from a newer firmware: left untouched, the last-known-good copy or the defaults in force.
        case future(version: Int, restored: Bool)
    }

    /// Loads the configuration at boot: migrates older schemas, sets a bad file aside. `now` stamps a migration's
    /// history entry.
    public func load(now: Int64) throws(HardwareError) -> (config: DeviceConfig, outcome: Outcome) {
        let data: Data
        let source: String
        do {
            if let current = try partition.read(Self.file) {
                (data, source) = (current, Self.file)
            } else if let old = try partition.read(Self.version1) {
                (data, source) = (old, Self.version1)
            } else {
                return (defaults, .firstBoot)
            }
        } catch {
            return try setAside(Self.file, reason: "the file cannot be read")
        }
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return try setAside(source, reason: "the file is not a JSON object")
        }
        let version: Int
        if source == Self.version1 {
            version = 1
        } else if case .number(let number)? = object["schema_version"], number.rounded() == number, number >= 1, number < 1_000_000 {
            version = Int(number)
        } else {
            return try setAside(source, reason: "schema_version is missing or not a positive integer")
        }
        if version > DeviceConfig.schemaVersion {
            let good = lastKnownGoodCopy()
            return (good ?? defaults, .future(version: version, restored: good != nil))
        }
        let document: [String: JSONValue]
        do {
            document = try ConfigMigrations.migrate(object, from: version, defaults: defaults)
        } catch {
            return try setAside(source, reason: error.summary)
        }
        let config: DeviceConfig
        do {
            config = try DeviceConfig.parse(document, as: .stored, defaults: defaults, allowInsecureCloud: allowInsecureCloud).config
        } catch {
            return try setAside(source, reason: error.summary)
        }
        guard version < DeviceConfig.schemaVersion else {
            if source == Self.file && partition.exists(Self.version1) { try partition.remove(Self.version1) }  // a migration's leftover
            return (config, .loaded)
        }
        let change = ConfigChange(
            time: now,
            source: .migration,
            fields: config.changedFields(from: defaults),
            oldHash: DeviceConfig.hash(of: data),
            newHash: config.hash
        )
        try save(config, change: change)
        if source == Self.version1 { try partition.remove(Self.version1) }
        return (config, .migrated(from: version))
    }

    /// The configuration a boot would use, read without writing anything (tools that look at a board at rest):
    /// the valid current file, else v1's migrated in memory, else the last-known-good copy or the defaults.
    public func peek() -> DeviceConfig {
        for (name, version) in [(Self.file, DeviceConfig.schemaVersion), (Self.version1, 1)] {
            guard let data = try? partition.read(name), case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data),
                let document = try? ConfigMigrations.migrate(object, from: version, defaults: defaults),
                let config = try? DeviceConfig.parse(document, as: .stored, defaults: defaults, allowInsecureCloud: allowInsecureCloud).config
            else { continue }
            return config
        }
        return lastKnownGoodCopy() ?? defaults
    }

    /// Keeps the bad file as `settings.bad.json`, then restores the last-known-good copy when there is one.
    private func setAside(_ name: String, reason: String) throws(HardwareError) -> (config: DeviceConfig, outcome: Outcome) {
        if partition.exists(name) { try partition.rename(name, to: Self.refused) }
        guard let good = lastKnownGoodCopy() else { return (defaults, .invalid(reason: reason, restored: false)) }
        try partition.write(Self.file, good.canonical)
        return (good, .invalid(reason: reason, restored: true))
    }

    private func lastKnownGoodCopy() -> DeviceConfig? {
        guard let data = try? partition.read(Self.lastKnownGood), case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return nil }
        return try? DeviceConfig.parse(object, as: .stored, defaults: defaults, allowInsecureCloud: allowInsecureCloud).config
    }

    /// Writes an accepted configuration: the file (atomically, durably; `checkpoint` is called with the new file
    /// still temporary, then once it is in place), its last-known-good copy, and the history entry.
    public func save(_ config: DeviceConfig, change: ConfigChange, checkpoint: (PowerCheckpoint) -> Void = { _ in }) throws(HardwareError) {
        let data = config.canonical
        try partition.write(Self.file, data) { checkpoint(.configTemporaryWritten) }
        checkpoint(.configWritten)
        try partition.write(Self.lastKnownGood, data)
        let kept = Array((history().reversed() + [change]).suffix(Self.historyKept))
        do {
            try partition.write(Self.history, try JSONEncoder().encode(kept))
        } catch let error as HardwareError {
            throw error
        } catch {
            throw .storage("cannot encode the configuration history")
        }
    }

    /// The history, newest first.
    public func history() -> [ConfigChange] {
        guard let data = try? partition.read(Self.history), let entries = try? JSONDecoder().decode([ConfigChange].self, from: data) else {
            return []
        }
        return entries.reversed()
    }
}

/// The schema migrations: one function per older version, from that version to the next. Each has a fixture file
/// of that version under `Tests/Fixtures/config/`.
public enum ConfigMigrations {
    /// `from` version → the function that makes the next version's document.
    public static let steps: [Int: @Sendable ([String: JSONValue], DeviceConfig) -> [String: JSONValue]] = [1: version1To2]

    /// Runs the migrations from `version` up to the current schema.
    public static func migrate(_ document: [String: JSONValue], from version: Int, defaults: DeviceConfig) throws(ConfigErrors) -> [String: JSONValue]
    {
        var document = document
        for from in version..<DeviceConfig.schemaVersion {
            guard let step = steps[from] else { throw ConfigErrors(["schema_version": "no migration from version \(from)"]) }
            document = step(document, defaults)
        }
        return document
    }

    /// v1 (`device.json`: `cloud_api_root`, `cloud_backup_interval_seconds`, both optional) → v2. The interval is
    /// rounded and brought into v2's range; other v1 fields were never read and are dropped.
    static func version1To2(_ old: [String: JSONValue], defaults: DeviceConfig) -> [String: JSONValue] {
        var document = defaults.stored
        switch old["cloud_api_root"] {
        case .string(let url)?: document["cloud_url"] = .string(url)
        case nil, .null?: break
        case let other?: document["cloud_url"] = other  // refused by v2's rule, with the file kept aside
        }
        switch old["cloud_backup_interval_seconds"] {
        case .number(let seconds)?: document["backup_interval_s"] = .number(min(max(seconds.rounded(), 60), 604_800))
        case nil, .null?: break
        case let other?: document["backup_interval_s"] = other
        }
        return document
    }
}
