import EmberClient
import EmberCore
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The versioned configuration with the real `ember device run`: what a boot does with each kind of file, power loss
/// during a write, a firmware update, the front-panel button.
@Suite(.serialized)
struct ConfigEndToEndTests {
    typealias Device = DeviceAgentTests.Device
    /// A loopback port nothing listens on: the boards' firmware default cloud.
    static let nowhere = "http://127.0.0.1:9"

    static func initBoard(_ board: URL) async throws {
        let made = try await EmberProcess.run(["device", "init", "--product", "FFC0806-2305", "--dir", board.path, "--cloud", nowhere])
        #expect(made.status == 0, "\(made.output)")
    }

    static func file(_ board: URL, _ name: String) -> String? {
        try? String(contentsOf: board.appendingPathComponent("config/\(name)"), encoding: .utf8)
    }

    static func json(_ reply: RegistryClient.Reply) throws -> [String: JSONValue] {
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: reply.body) else { return [:] }
        return object
    }

    static func texts(_ device: Device, _ path: String) async throws -> [String] {
        let reply = try await device.call(.GET, path)
        guard case .array(let items) = try JSONDecoder().decode(JSONValue.self, from: reply.body) else { return [] }
        return items.compactMap { if case .object(let entry) = $0, case .string(let text)? = entry["text"] { text } else { nil } }
    }

    enum Kind: String, CaseIterable, Sendable {
        case corrupt, truncated, wrongTypes, version1, future
    }

    static let good =
        #"{"backup_interval_s":86400,"check_in_interval_s":3600,"cloud_url":"https://registry.example.com","display":{"timeout_s":300},"fleet_id":"line-4","ntp_servers":["pool.ntp.org"],"region":"eu-west","schema_version":2,"wifi":{"ssid":""}}"#

    @Test(arguments: Kind.allCases)
    func aBootSaysWhatItDidWithTheFile(kind: Kind) async throws {
        try await withTemporaryFolder { folder in
            let board = folder.appendingPathComponent("board")
            try await Self.initBoard(board)
            let config = board.appendingPathComponent("config")
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
            let contents: String
            switch kind {
            case .corrupt: contents = "\u{0}\u{7}garbage{{"
            case .truncated: contents = String(Self.good.prefix(90))
            case .wrongTypes: contents = Self.good.replacingOccurrences(of: #""check_in_interval_s":3600"#, with: #""check_in_interval_s":"hourly""#)
            case .version1: contents = #"{"cloud_api_root": "https://old.example.com", "cloud_backup_interval_seconds": 7200}"#
            case .future: contents = Self.good.replacingOccurrences(of: #""schema_version":2"#, with: #""schema_version":3,"colour":"red""#)
            }
            let name = kind == .version1 ? "device.json" : "settings.json"
            try Data(contents.utf8).write(to: config.appendingPathComponent(name))

            let device = try await Device.start(board: board, folder: folder, cloud: Self.nowhere, create: false)
            let events = try await Self.texts(device, "/api/events")
            let errors = try await Self.texts(device, "/api/errors")
            let current = try Self.json(try await device.call(.GET, "/api/config"))
            switch kind {
            case .corrupt, .truncated, .wrongTypes:
                #expect(events.contains("Config invalid") && errors.contains("Config invalid"), "\(events)")
                #expect(Self.file(board, "settings.bad.json") == contents, "the bad file is kept aside")
                #expect(current["cloud_url"] == .string(Self.nowhere) && current["region"] == .string(""), "the defaults")
                #expect(device.process.output.contains("configuration refused"))
            case .version1:
                #expect(events.contains("Config migrated") && !errors.contains("Config invalid"))
                #expect(current["cloud_url"] == .string("https://old.example.com") && current["backup_interval_s"] == .number(7_200))
                #expect(Self.file(board, "device.json") == nil && Self.file(board, "settings.json") != nil)
                let history = try JSONDecoder().decode([ConfigChangeEntry].self, from: try await device.call(.GET, "/api/config/history").body)
                #expect(history.first?.source == "migration")
            case .future:
                #expect(events.contains("Config invalid") && errors.contains("Config invalid"))
                #expect(Self.file(board, "settings.json") == contents && Self.file(board, "settings.bad.json") == nil, "not overwritten")
                let refused = try await device.call(.PATCH, "/api/config", json: #"{"region":"us-east"}"#)
                #expect(refused.status == 409 && refused.message.contains("newer firmware"))
                #expect(Self.file(board, "settings.json") == contents)
            }
            try await device.process.stop(signal: SIGTERM)
        }
    }

    struct ConfigChangeEntry: Decodable {
        var source: String
        var fields: [String]
    }

    /// Power is lost with the new file complete but not yet renamed, and just after the rename: a boot finds the old
    /// or the new configuration, whole, never a torn file.
    @Test(arguments: ["config-temporary-written", "config-written"])
    func powerLossDuringAWriteLeavesTheOldOrTheNewFile(point: String) async throws {
        try await withTemporaryFolder { folder in
            let board = folder.appendingPathComponent("board")
            try await Self.initBoard(board)
            let first = try await Device.start(board: board, folder: folder, cloud: Self.nowhere, create: false)
            #expect(try await first.call(.PATCH, "/api/config", json: #"{"region":"eu-west"}"#).status == 200)
            try await first.process.stop(signal: SIGTERM)
            let old = try #require(Self.file(board, "settings.json"))

            let second = try await Device.start(board: board, folder: folder, cloud: Self.nowhere, create: false, faults: ["--power-loss-at", point])
            _ = try? await second.call(.PATCH, "/api/config", json: #"{"region":"us-east","fleet_id":"night"}"#)
            #expect(try await second.process.waitForExit(), "the board lost power")
            #expect(second.process.exitStatus == SIGKILL)
            let after = try #require(Self.file(board, "settings.json"))
            if point == "config-temporary-written" {
                #expect(after == old)
                let names = try FileManager.default.contentsOfDirectory(atPath: board.appendingPathComponent("config").path)
                #expect(names.contains { $0.hasPrefix(".settings.json.tmp-") }, "the complete temporary file is left over: \(names)")
            } else {
                #expect(after.contains(#""region":"us-east""#) && after.contains(#""fleet_id":"night""#))
            }

            let third = try await Device.start(board: board, folder: folder, cloud: Self.nowhere, create: false)
            let current = try Self.json(try await third.call(.GET, "/api/config"))
            #expect(current["region"] == .string(point == "config-written" ? "us-east" : "eu-west"))
            #expect(try await !Self.texts(third, "/api/events").contains("Config invalid"))
            try await third.process.stop(signal: SIGTERM)
        }
    }

    @Test func aFirmwareUpdateKeepsTheConfigurationAndMigratesIt() async throws {
        try await withTemporaryFolder { folder in
            let board = folder.appendingPathComponent("board")
            try await Self.initBoard(board)
            // The configuration an older firmware left: v1's device.json.
            try Data(#"{"cloud_api_root": "https://old.example.com"}"#.utf8).write(to: board.appendingPathComponent("config/device.json"))
            let flashed = try await EmberProcess.run(["device", "flash", "--dir", board.path, "--firmware-version", "2.1.0"])
            #expect(flashed.status == 0 && flashed.output.contains("Flashed firmware 2.1.0"), "\(flashed.output)")
            #expect(try await EmberProcess.run(["device", "flash", "--dir", board.path, "--firmware-version", "2.x"]).status != 0)

            let device = try await Device.start(board: board, folder: folder, cloud: Self.nowhere, create: false)
            let version = try Self.json(try await device.call(.GET, "/api/version"))
            #expect(version["application"].flatMap { if case .object(let a) = $0 { a["version"] } else { nil } } == .string("2.1.0"))
            #expect(try await Self.texts(device, "/api/events").contains("Config migrated"))
            let before = try Self.json(try await device.call(.GET, "/api/config"))
            #expect(before["cloud_url"] == .string("https://old.example.com"))

            // An update while the agent runs: it reboots into the new firmware, the configuration unchanged.
            let again = try await EmberProcess.run(["device", "flash", "--dir", board.path, "--firmware-version", "2.2.0"])
            #expect(again.status == 0 && again.output.contains("reboots"), "\(again.output)")
            try await Task.sleep(for: .milliseconds(200))
            let shown = try await EmberProcess.run(["device", "show", "--dir", board.path])
            #expect(shown.output.contains("firmware     2.2.0"), "\(shown.output)")
            try await device.process.stop(signal: SIGTERM)
        }
    }

    @Test func theButtonReachesTheRunningAgent() async throws {
        try await withTemporaryFolder { folder in
            let board = folder.appendingPathComponent("board")
            try await Self.initBoard(board)
            let device = try await Device.start(board: board, folder: folder, cloud: Self.nowhere, create: false)
            _ = try await device.provision()
            #expect(try await device.call(.PATCH, "/api/config", json: #"{"fleet_id":"line-4"}"#).status == 200)
            #expect(try await device.call(.PUT, "/backup", json: #"{"site":"north"}"#).status == 204)

            let press = try await EmberProcess.run(["device", "button", "--dir", board.path])
            #expect(press.status == 0 && press.output.hasPrefix("Page: network"), "\(press.output)")
            let display = try String(contentsOf: board.appendingPathComponent("display.txt"), encoding: .utf8)
            #expect(display.hasPrefix("Page: network\n"))

            let hold = try await EmberProcess.run(["device", "button", "--dir", board.path, "--hold", "10"])
            #expect(hold.status == 0 && hold.output.contains("Factory reset"), "\(hold.output)")
            #expect(Self.file(board, "backup.json") == nil && Self.file(board, "backup.etag") == nil)
            #expect(Self.file(board, "settings.json")?.contains(#""fleet_id":"""#) == true, "settings back to defaults")
            let names = Set(try FileManager.default.contentsOfDirectory(atPath: board.appendingPathComponent("config").path))
            #expect(names.isSuperset(of: ["events.json", "config-history.json"]), "\(names)")
            let efuse = try Data(contentsOf: board.appendingPathComponent("efuse.bin"))
            #expect(efuse.prefix(16).contains { $0 != 0 }, "the identity stays")
            #expect(try await EmberProcess.run(["device", "button", "--dir", folder.appendingPathComponent("none").path]).status != 0)
            try await device.process.stop(signal: SIGTERM)
        }
    }

    @Test func theFactoryResetCommandResetsTheRunningBoard() async throws {
        try await withTemporaryFolder { folder in
            let board = folder.appendingPathComponent("board")
            try await Self.initBoard(board)
            let device = try await Device.start(board: board, folder: folder, cloud: Self.nowhere, create: false)
            let blank = try await EmberProcess.run(["device", "factory-reset", "--dir", board.path])
            #expect(blank.status != 0 && blank.output.contains("the board has no identity yet"), "\(blank.output)")
            _ = try await device.provision()
            #expect(try await device.call(.PATCH, "/api/config", json: #"{"region":"eu-west"}"#).status == 200)
            #expect(try await device.call(.PUT, "/backup", json: #"{"site":"north"}"#).status == 204)
            let reset = try await EmberProcess.run(["device", "factory-reset", "--dir", board.path])
            #expect(reset.status == 0 && reset.output.contains("Factory reset"), "\(reset.output)")
            #expect(Self.file(board, "backup.json") == nil && Self.file(board, "settings.json")?.contains(#""region":"""#) == true)
            try await device.process.stop(signal: SIGTERM)
        }
    }
}
