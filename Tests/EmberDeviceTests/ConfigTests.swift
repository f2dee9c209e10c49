import EmberCore
import EmberTestSupport
import Foundation
import Testing

@testable import EmberDevice

/// Schema v2 of lifecycle §4: every field's rule, merge patches, the stored file, migrations and the boot-time load.
struct ConfigTests {
    static let defaults = DeviceConfig(cloudURL: "https://factory.example.com")

    /// The configuration a patch gives, or its per-field errors.
    static func patched(_ patch: String, onto base: DeviceConfig = defaults) -> Result<DeviceConfig, ConfigErrors> {
        var editable = base.stored
        if case .object(var wifi)? = editable["wifi"] {
            wifi.removeValue(forKey: "password_sealed")
            editable["wifi"] = .object(wifi)
        }
        guard case .object(let merged) = JSONValue.object(editable).merging(patch: JSONValue(text: patch)!) else {
            return .failure(ConfigErrors(["": "not an object"]))
        }
        do {
            return .success(try DeviceConfig.parse(merged, as: .patch, defaults: defaults).config)
        } catch {
            return .failure(error)
        }
    }

    static func errors(_ patch: String) -> [String: String] {
        if case .failure(let errors) = patched(patch) { return errors.fields }
        return [:]
    }

    @Test(arguments: [
        // (patch, the field refused)
        (#"{"schema_version": 3}"#, "schema_version"),
        (#"{"schema_version": "2"}"#, "schema_version"),
        (#"{"cloud_url": "http://registry.example.com"}"#, "cloud_url"),
        (#"{"cloud_url": "ftp://127.0.0.1"}"#, "cloud_url"),
        (#"{"cloud_url": "https://"}"#, "cloud_url"),
        (#"{"cloud_url": "https://a b.example.com"}"#, "cloud_url"),
        (#"{"cloud_url": 7}"#, "cloud_url"),
        (#"{"region": "EU-West"}"#, "region"),
        (#"{"region": "eu_west"}"#, "region"),
        (#"{"region": "\#(String(repeating: "a", count: 33))"}"#, "region"),
        (#"{"region": null, "fleet_id": "fleet/1"}"#, "fleet_id"),
        (#"{"fleet_id": "\#(String(repeating: "F", count: 65))"}"#, "fleet_id"),
        (#"{"fleet_id": "flöt"}"#, "fleet_id"),
        (#"{"wifi": {"ssid": "\#(String(repeating: "é", count: 17))"}}"#, "wifi.ssid"),
        (#"{"wifi": {"password": "short"}}"#, "wifi.password"),
        (#"{"wifi": {"password": "\#(String(repeating: "p", count: 64))"}}"#, "wifi.password"),
        (#"{"wifi": {"password": "tab\tinside!"}}"#, "wifi.password"),
        (#"{"wifi": {"password_set": true}}"#, "wifi.password_set"),
        (#"{"wifi": {"password_sealed": "AAAA"}}"#, "wifi.password_sealed"),
        (#"{"wifi": {"channel": 6}}"#, "wifi.channel"),
        (#"{"wifi": "home"}"#, "wifi"),
        (#"{"backup_interval_s": 59}"#, "backup_interval_s"),
        (#"{"backup_interval_s": 604801}"#, "backup_interval_s"),
        (#"{"backup_interval_s": 3600.5}"#, "backup_interval_s"),
        (#"{"backup_interval_s": true}"#, "backup_interval_s"),
        (#"{"check_in_interval_s": 9}"#, "check_in_interval_s"),
        (#"{"check_in_interval_s": 86401}"#, "check_in_interval_s"),
        (#"{"ntp_servers": []}"#, "ntp_servers"),
        (#"{"ntp_servers": ["a.org", "b.org", "c.org", "d.org"]}"#, "ntp_servers"),
        (#"{"ntp_servers": ["-bad.org"]}"#, "ntp_servers"),
        (#"{"ntp_servers": ["ntp..org"]}"#, "ntp_servers"),
        (#"{"ntp_servers": "pool.ntp.org"}"#, "ntp_servers"),
        (#"{"ntp_servers": [7]}"#, "ntp_servers"),
        (#"{"display": {"timeout_s": -1}}"#, "display.timeout_s"),
        (#"{"display": {"timeout_s": 3601}}"#, "display.timeout_s"),
        (#"{"display": {"brightness": 3}}"#, "display.brightness"),
        (#"{"display": 300}"#, "display"),
        (#"{"colour": "red"}"#, "colour"),
        (#"{"hash": "abc"}"#, "hash"),
    ])
    func everyFieldHasItsRule(patch: String, field: String) {
        let errors = Self.errors(patch)
        #expect(Array(errors.keys) == [field], "\(patch) → \(errors)")
    }

    @Test(arguments: [
        #"{"cloud_url": "https://registry.example.com:8443/base"}"#,
        #"{"cloud_url": "http://127.0.0.1:8080"}"#,
        #"{"cloud_url": "http://localhost"}"#,
        #"{"cloud_url": "http://[::1]:9000"}"#,
        #"{"cloud_url": ""}"#,
        #"{"region": "eu-west-1", "fleet_id": "Line_4.night-shift"}"#,
        #"{"region": "", "fleet_id": ""}"#,
        #"{"wifi": {"ssid": "\#(String(repeating: "s", count: 32))"}}"#,
        #"{"wifi": {"password": "12345678"}}"#,
        #"{"wifi": {"password": "\#(String(repeating: "~", count: 63))"}}"#,
        #"{"backup_interval_s": 60, "check_in_interval_s": 10}"#,
        #"{"backup_interval_s": 604800, "check_in_interval_s": 86400}"#,
        #"{"ntp_servers": ["time.example.com", "10.0.0.1", "ntp"]}"#,
        #"{"display": {"timeout_s": 0}}"#,
        #"{"display": {"timeout_s": 3600}}"#,
        #"{"schema_version": 2}"#,
        #"{}"#,
    ])
    func boundsAreInclusive(patch: String) {
        #expect(Self.errors(patch).isEmpty, "\(patch) → \(Self.errors(patch))")
    }

    @Test func everyBadFieldIsReportedAtOnce() {
        let errors = Self.errors(#"{"region": "X", "backup_interval_s": 1, "display": {"timeout_s": "never"}, "extra": 1}"#)
        #expect(Set(errors.keys) == ["region", "backup_interval_s", "display.timeout_s", "extra"])
        #expect(errors["backup_interval_s"] == "must be an integer from 60 to 604800")
        #expect(errors["extra"] == "is not a configuration field")
    }

    @Test func nullPutsAFieldBackToItsDefault() throws {
        var base = Self.defaults
        base.region = "eu-west"
        base.display.timeoutS = 10
        base.ntpServers = ["a.example.com"]
        base.cloudURL = "https://other.example.com"
        let reset = try Self.patched(#"{"region": null, "display": null, "ntp_servers": null, "cloud_url": null}"#, onto: base).get()
        #expect(reset == Self.defaults, "the firmware's cloud URL is cloud_url's default")
        let nested = try Self.patched(#"{"display": {"timeout_s": null}}"#, onto: base).get()
        #expect(nested.display.timeoutS == 300 && nested.region == "eu-west")
    }

    @Test func theStoredFileMustBeCompleteAndKeepsOnlyTheSealedPassword() throws {
        var config = Self.defaults
        config.wifi = DeviceConfig.WiFi(ssid: "Plant 4", sealedPassword: Data("sealed".utf8).base64EncodedString())
        guard case .object(let stored)? = JSONValue(text: String(decoding: config.canonical, as: UTF8.self)) else {
            Issue.record("the canonical file is not an object")
            return
        }
        #expect(try DeviceConfig.parse(stored, as: .stored, defaults: Self.defaults).config == config)
        #expect(String(decoding: config.canonical, as: UTF8.self).hasSuffix("}\n"))
        #expect(config.hash.count == 64 && config.hash != Self.defaults.hash)
        #expect(config.redacted["wifi"] == .object(["ssid": .string("Plant 4"), "password_set": .bool(true)]))

        var incomplete = stored
        incomplete.removeValue(forKey: "check_in_interval_s")
        #expect(throws: ConfigErrors(["check_in_interval_s": "is missing"])) {
            try DeviceConfig.parse(incomplete, as: .stored, defaults: Self.defaults)
        }
        var plain = stored
        plain["wifi"] = .object(["ssid": .string("x"), "password": .string("in the clear")])
        #expect(throws: ConfigErrors(["wifi.password": "is not a configuration field"])) {
            try DeviceConfig.parse(plain, as: .stored, defaults: Self.defaults)
        }
    }

    @Test func changedFieldsNameTheSecretNeverItsValue() {
        var next = Self.defaults
        next.wifi.sealedPassword = "c2VhbGVk"
        next.display.timeoutS = 5
        #expect(next.changedFields(from: Self.defaults) == ["wifi.password", "display.timeout_s"])
    }

    /// Every older schema has a migration function and a fixture; each fixture migrates to its expected file.
    @Test func everyOlderVersionHasAMigrationAndAFixture() throws {
        #expect(Set(ConfigMigrations.steps.keys) == Set(1..<DeviceConfig.schemaVersion))
        for version in 1..<DeviceConfig.schemaVersion {
            let fixture = try Data(contentsOf: Fixtures.url("config/v\(version).json"))
            let expected = try Data(contentsOf: Fixtures.url("config/v\(version).expected.json"))
            guard case .object(let old)? = JSONValue(text: String(decoding: fixture, as: UTF8.self)),
                case .object(let want)? = JSONValue(text: String(decoding: expected, as: UTF8.self))
            else {
                Issue.record("fixture v\(version) is not a JSON object")
                continue
            }
            let migrated = try ConfigMigrations.migrate(old, from: version, defaults: DeviceConfig())
            #expect(migrated == want, "v\(version)")
            #expect(throws: Never.self) { try DeviceConfig.parse(migrated, as: .stored, defaults: DeviceConfig()) }
        }
    }

    @Test func version1IntervalsAreBroughtIntoRange() throws {
        let migrated = ConfigMigrations.version1To2(["cloud_backup_interval_seconds": .number(1.4)], defaults: Self.defaults)
        #expect(migrated["backup_interval_s"] == .number(60) && migrated["cloud_url"] == .string(Self.defaults.cloudURL))
    }
}

/// The boot-time load on a real config partition.
struct ConfigStoreTests {
    func withStore(_ body: (ConfigStore) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(ConfigStore(partition: try ConfigPartition(folder: folder), defaults: ConfigTests.defaults))
    }

    func change(_ store: ConfigStore, to config: DeviceConfig, source: ConfigChange.Source = .local) throws {
        try store.save(config, change: ConfigChange(time: 1, source: source, fields: ["region"], oldHash: "old", newHash: config.hash))
    }

    @Test func firstBootUsesTheDefaultsAndWritesNothing() throws {
        try withStore { store in
            let (config, outcome) = try store.load(now: 0)
            #expect(config == ConfigTests.defaults && outcome == .firstBoot && store.partition.names().isEmpty)
        }
    }

    @Test(arguments: [
        ("not json {", "not a JSON object"),
        (#"{"schema_version": 2, "cloud_url": "https://x.example.com", "region": ""#, "truncated"),
        (
            #"{"schema_version": 2, "cloud_url": 5, "region": [], "fleet_id": "", "wifi": {"ssid": ""}, "backup_interval_s": "1", "check_in_interval_s": 3600, "ntp_servers": ["a"], "display": {"timeout_s": 300}}"#,
            "wrong types"
        ),
        (#"{"cloud_url": "https://x.example.com"}"#, "no schema_version"),
        (#"[2]"#, "an array"),
    ])
    func aBadFileIsKeptAsideAndTheLastKnownGoodCopyRestored(contents: String, why: String) throws {
        try withStore { store in
            var good = ConfigTests.defaults
            good.region = "eu-west"
            try change(store, to: good)
            try store.partition.write(ConfigStore.file, Data(contents.utf8))
            let (config, outcome) = try store.load(now: 0)
            guard case .invalid(_, restored: true) = outcome else {
                Issue.record("\(why): \(outcome)")
                return
            }
            #expect(config == good, "\(why)")
            #expect(try store.partition.read(ConfigStore.refused) == Data(contents.utf8), "the bad file is kept")
            #expect(try store.partition.read(ConfigStore.file) == good.canonical, "the last-known-good copy is back in place")
        }
    }

    @Test func withoutALastKnownGoodCopyTheDefaultsApply() throws {
        try withStore { store in
            try store.partition.write(ConfigStore.file, Data("{".utf8))
            let (config, outcome) = try store.load(now: 0)
            #expect(config == ConfigTests.defaults && outcome == .invalid(reason: "the file is not a JSON object", restored: false))
            #expect(!store.partition.exists(ConfigStore.file) && store.partition.exists(ConfigStore.refused))
        }
    }

    @Test func aFileFromANewerFirmwareIsLeftUntouched() throws {
        try withStore { store in
            let future = Data(#"{"schema_version": 3, "cloud_url": "https://x.example.com", "colour": "red"}"#.utf8)
            try store.partition.write(ConfigStore.file, future)
            let (config, outcome) = try store.load(now: 0)
            #expect(config == ConfigTests.defaults && outcome == .future(version: 3, restored: false))
            #expect(try store.partition.read(ConfigStore.file) == future && !store.partition.exists(ConfigStore.refused))
        }
    }

    @Test func version1IsMigratedOnceWithAHistoryEntry() throws {
        try withStore { store in
            let v1 = try Data(contentsOf: Fixtures.url("config/v1.json"))
            try store.partition.write(ConfigStore.version1, v1)
            let (config, outcome) = try store.load(now: 42)
            #expect(outcome == .migrated(from: 1))
            #expect(config.cloudURL == "https://registry.example.com" && config.backupIntervalS == 43_200)
            #expect(try !store.partition.exists(ConfigStore.version1) && store.partition.read(ConfigStore.file) == config.canonical)
            let entry = try #require(store.history().first)
            #expect(entry.source == .migration && entry.time == 42 && entry.oldHash == DeviceConfig.hash(of: v1) && entry.newHash == config.hash)
            #expect(entry.fields == ["cloud_url", "backup_interval_s"])
            #expect(try store.load(now: 43).outcome == .loaded, "migrated once")
        }
    }

    @Test func anInvalidVersion1FileIsKeptAside() throws {
        try withStore { store in
            try store.partition.write(ConfigStore.version1, Data(#"{"cloud_api_root": "http://registry.example.com"}"#.utf8))
            let (config, outcome) = try store.load(now: 0)
            guard case .invalid(let reason, restored: false) = outcome else {
                Issue.record("\(outcome)")
                return
            }
            #expect(reason.contains("cloud_url") && config == ConfigTests.defaults && store.partition.exists(ConfigStore.refused))
        }
    }

    @Test func historyIsNewestFirstAndBounded() throws {
        try withStore { store in
            for index in 0..<(ConfigStore.historyKept + 5) {
                var config = ConfigTests.defaults
                config.checkInIntervalS = 10 + index
                try change(store, to: config)
            }
            let history = store.history()
            #expect(history.count == ConfigStore.historyKept)
            var newest = ConfigTests.defaults
            newest.checkInIntervalS = 10 + ConfigStore.historyKept + 4
            #expect(history.first?.newHash == newest.hash)
        }
    }

    @Test func peekReadsWithoutWriting() throws {
        try withStore { store in
            try store.partition.write(ConfigStore.version1, Data(#"{"cloud_api_root": "https://old.example.com"}"#.utf8))
            #expect(store.peek().cloudURL == "https://old.example.com" && store.partition.names() == [ConfigStore.version1])
        }
    }
}
