import EmberClient
import EmberCloud
import EmberCore
import EmberDevice
import EmberHTTP
import EmberTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The configuration, factory test and factory reset through the HW-Reg API (lifecycle §4–§5).
@Suite(.serialized)
struct ConfigAPITests {
    static func files(_ device: TestDevice) -> Set<String> { BoardFolder.configFiles(device.folder) }

    static func object(_ response: TestResponse) throws -> [String: JSONValue] {
        guard case .object(let object) = try response.json(JSONValue.self) else { throw CancellationError() }
        return object
    }

    func patch(_ device: TestDevice, _ json: String, type: String = "application/merge-patch+json") async throws -> TestResponse {
        try await device.request(.patch, "/api/config", headers: [.contentType: type], body: Data(json.utf8))
    }

    @Test func getAndPatchTheConfigurationWithPerFieldErrors() async throws {
        try await TestDevice.with { device in
            #expect(try await device.request(.get, "/api/config", authorized: false).status == .unauthorized)
            let first = try Self.object(try await device.request(.get, "/api/config"))
            #expect(first["schema_version"] == .number(2) && first["backup_interval_s"] == .number(86_400))
            #expect(first["wifi"] == .object(["ssid": .string(""), "password_set": .bool(false)]))
            #expect(first["hash"] == .string(DeviceConfig().hash))

            let refused = try await patch(device, #"{"region": "EU", "check_in_interval_s": 5, "unknown": 1}"#)
            #expect(refused.status == .badRequest && refused.message == "Invalid configuration")
            let errors = try refused.json([String: JSONValue].self)["errors"]
            #expect(
                errors
                    == .object([
                        "region": .string("must be at most 32 of a-z, 0-9 and -"),
                        "check_in_interval_s": .string("must be an integer from 10 to 86400"),
                        "unknown": .string("is not a configuration field"),
                    ])
            )
            #expect(Self.files(device).isDisjoint(with: ["settings.json", "config-history.json"]), "nothing was written")
            #expect(try await patch(device, "[1]").status == .badRequest)
            #expect(try await patch(device, "{", type: "application/json").status == .badRequest)
            #expect(try await patch(device, #"{"region":"x"}"#, type: "text/plain").status == .badRequest)

            // The Wi-Fi password is sealed: before the identity exists there is no key to seal it with.
            let early = try await patch(device, #"{"wifi": {"ssid": "Plant 4", "password": "correct horse"}}"#)
            #expect(
                try early.json([String: JSONValue].self)["errors"]
                    == .object(["wifi.password": .string("cannot be sealed before the device identity is provisioned")])
            )
            try await device.provision()
            let accepted = try await patch(device, #"{"wifi": {"ssid": "Plant 4", "password": "correct horse"}, "display": {"timeout_s": 60}}"#)
            #expect(accepted.status == .ok)
            let body = String(buffer: accepted.body)
            #expect(!body.contains("correct horse") && !body.contains("password_sealed"))
            let now = try Self.object(accepted)
            #expect(now["wifi"] == .object(["ssid": .string("Plant 4"), "password_set": .bool(true)]))
            let file = try String(contentsOf: device.folder.appendingPathComponent("config/settings.json"), encoding: .utf8)
            #expect(!file.contains("correct horse") && file.contains("password_sealed"), "sealed on the partition")
            #expect(now["hash"] == .string(DeviceConfig.hash(of: Data(file.utf8))), "hash of the canonical file")
            #expect(try String(contentsOf: device.folder.appendingPathComponent("config/settings.good.json"), encoding: .utf8) == file)

            // A merge patch that only renames the network keeps the password; null forgets it.
            let renamed = try Self.object(try await patch(device, #"{"wifi": {"ssid": "Plant 5"}}"#))
            #expect(renamed["wifi"] == .object(["ssid": .string("Plant 5"), "password_set": .bool(true)]))
            let forgotten = try Self.object(try await patch(device, #"{"wifi": {"password": null}, "display": null}"#))
            #expect(forgotten["wifi"] == .object(["ssid": .string("Plant 5"), "password_set": .bool(false)]))
            #expect(forgotten["display"] == .object(["timeout_s": .number(300)]), "null → the default")

            let history = try await device.request(.get, "/api/config/history").json([ConfigChange].self)
            #expect(
                history.map(\.fields) == [
                    ["wifi.password", "display.timeout_s"], ["wifi.ssid"], ["wifi.ssid", "wifi.password", "display.timeout_s"],
                ]
            )
            #expect(history.allSatisfy { $0.source == .local } && history[0].oldHash == history[1].newHash)
            #expect(!String(buffer: try await device.request(.get, "/api/config/history").body).contains("correct horse"))
            let events = try await device.events().map(\.text)
            #expect(events.filter { $0 == "Config changed" }.count == 3)
            // An accepted patch that changes nothing writes nothing.
            #expect(try await patch(device, #"{"region": ""}"#).status == .ok)
            #expect(try await device.request(.get, "/api/config/history").json([ConfigChange].self).count == 3)
        }
    }

    @Test func theIdentityStepWritesTheInitialConfiguration() async throws {
        try await TestDevice.with { device in
            let uuid = UUID().uuidString.lowercased()
            let bad = try await device.request(
                .post,
                "/api/identity",
                json: #"{"uuid":"\#(uuid)","product_id":"FFC0806-2305","product_hex":"0x08062305","region":"EU West"}"#
            )
            #expect(bad.status == .badRequest && bad.message == "Field region must be at most 32 of a-z, 0-9 and -")
            #expect(try await device.agent.identity() == nil, "nothing burned")
            let made = try await device.request(
                .post,
                "/api/identity",
                json: #"{"uuid":"\#(uuid)","product_id":"FFC0806-2305","product_hex":"0x08062305","region":"eu-west","fleet_id":"line-4"}"#
            )
            #expect(made.status == .created)
            let config = try Self.object(try await device.request(.get, "/api/config"))
            #expect(config["region"] == .string("eu-west") && config["fleet_id"] == .string("line-4"))
        }
    }

    @Test func registrationIsRefusedAfterAFailedFactoryTestUnlessForced() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                let uuid = UUID().uuidString.lowercased()
                let made = try await device.request(
                    .post,
                    "/api/identity",
                    json: #"{"uuid":"\#(uuid)","product_id":"FFC0806-2305","product_hex":"0x08062305","region":"eu-west","fleet_id":"line-4"}"#
                )
                #expect(made.status == .created)
                try SimulatedBoard.update(device.folder) { spec in spec.peripherals[0].online = false }
                let report = try await device.request(.post, "/api/factory-test").json(FactoryTestReport.self)
                #expect(!report.passed && report.results.map(\.name) == DeviceAgent.factoryCheckNames)
                #expect(report.results.filter { !$0.passed }.map(\.name) == ["peripherals"], "\(report.results)")

                let key = try await cloud.admin.mintKey().key
                let refused = try await device.request(.post, "/api/registration", headers: [.xRegistrationKey: key])
                #expect(refused.status == .conflict && refused.message == "Factory checks failed")
                #expect(try refused.json([String: JSONValue].self)["errors"] == .object(["peripherals": .string("failed")]))
                #expect(try await cloud.admin.listKeys().contains { $0.key == key }, "the key is not spent")

                let forced = try await device.request(
                    .post,
                    "/api/registration",
                    headers: [.xRegistrationKey: key],
                    json: #"{"force": true}"#
                )
                #expect(forced.status == .noContent, "\(forced.message ?? "")")
                let record = try await cloud.admin.device(uuid)
                #expect(record.region == "eu-west" && record.fleetID == "line-4" && record.firmwareVersion == device.agent.configuration.version)
                #expect(record.factoryTest?.passed == false && record.factoryTest?.failed == ["peripherals"])
                #expect(record.factoryTest?.ranAt == report.ranAt)
            }
        }
    }

    @Test func aPassingFactoryTestLetsTheRegistrationThrough() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                let report = try await device.request(.post, "/api/factory-test").json(FactoryTestReport.self)
                #expect(report.passed, "\(report.results)")
                #expect(report.results.first { $0.name == "cloud_reachable" }?.detail == "\(cloud.url) answered")
                let uuid = try await device.register(with: cloud)
                #expect(try await cloud.admin.device(uuid).factoryTest == FactoryTestSummary(passed: true, ranAt: report.ranAt, failed: []))
            }
        }
    }

    @Test func factoryResetByTheAPIKeepsIdentityKeysAndLogs() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                let uuid = try await device.register(with: cloud)
                #expect(try await patch(device, #"{"region": "eu-west", "wifi": {"ssid": "Plant", "password": "12345678"}}"#).status == .ok)
                #expect(try await device.request(.put, "/backup", json: #"{"site":"north"}"#).status == .noContent)
                #expect(try await device.request(.post, "/api/cloud-backup").status == .ok)
                #expect(try await device.request(.post, "/api/keys/rotate").status == .ok)
                let before = Self.files(device)
                #expect(before.isSuperset(of: ["backup.json", "backup.etag", "key-current", "settings.json"]))

                let wrong = try await device.request(.post, "/api/factory-reset", json: #"{"uuid":"\#(UUID().uuidString.lowercased())"}"#)
                #expect(wrong.status == .badRequest && wrong.message == "Confirmation uuid does not match this device")
                #expect(try await device.request(.post, "/api/factory-reset", json: #"{"uuid":"\#(uuid)"}"#).status == .noContent)
                // The reset reboots the board; the new session checks the registration again.
                try await eventually {
                    let events = try await device.events().map(\.text)
                    guard let reset = events.lastIndex(of: "Factory reset") else { return false }
                    return events[reset...].contains("Cloud registered")
                }
                let after = Self.files(device)
                #expect(after.isSuperset(of: ["key-current", "events.json", "config-history.json"]), "\(after)")
                let config = await device.agent.config
                #expect(config.region == "" && config.wifi == DeviceConfig.WiFi() && config.cloudURL == cloud.url, "registered: the cloud stays")
                let events = try await device.events().map(\.text)
                #expect(events.contains("Factory reset") && events.contains("Cloud registered"))
                #expect(try await device.agent.identity().map { DeviceUUID.format($0.uuid) } == uuid)
                #expect(try await cloud.store.backupInfo(uuid: uuid) != nil, "the cloud backup stays (restorable)")
                let history = try await device.request(.get, "/api/config/history").json([ConfigChange].self)
                #expect(history.first?.source == .reset)
                // The rotated key still signs.
                #expect(try await device.request(.put, "/backup", json: #"{"a":1}"#).status == .noContent)
                #expect(try await device.request(.post, "/api/cloud-backup").status == .ok)
            }
        }
    }

    @Test func theButtonCyclesOLEDPagesAndAFactoryResetAfterTenSeconds() async throws {
        try await TestDevice.with { device in
            let display = device.folder.appendingPathComponent("display.txt")
            @Sendable func screen() -> String { (try? String(contentsOf: display, encoding: .utf8)) ?? "" }
            #expect(screen().hasPrefix("FireFly-"))
            for page in ["network", "registration", "events"] {
                try await device.agent.pressButton(holdSeconds: 0.2)
                let shown = screen()
                #expect(shown.hasPrefix("Page: \(page)\n") && shown.contains("Token: "), "\(shown)")
            }
            try await device.agent.pressButton(holdSeconds: 9.9)
            #expect(screen().hasPrefix("FireFly-"), "back to the status page")
            try await device.agent.pressButton(holdSeconds: 1)
            device.clock.advance(by: 301)
            try await eventually { screen().hasPrefix("FireFly-") }  // display.timeout_s without a press

            try await device.provision()
            #expect(try await patch(device, #"{"fleet_id": "line-4"}"#).status == .ok)
            try await device.agent.pressButton(holdSeconds: 10)
            try await eventually { await device.agent.config.fleetID == "" }
            #expect(try await device.events().map(\.text).contains("Factory reset"))
        }
    }

    @Test func remoteConfigurationIsValidatedTheSameWay() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url, configure: { $0.checkInInterval = 10 }) { device in
                let uuid = try await device.register(with: cloud)
                try await device.scheduleIdle(.checkIn)
                _ = try await cloud.admin.queueAction(
                    uuid,
                    .configure,
                    config: .object(["fleet_id": .string("line-9"), "check_in_interval_s": .number(600)])
                )
                try await device.runSchedule(.checkIn)
                try await eventually { try await cloud.admin.actions(uuid).first?.state == .done }
                let config = await device.agent.config
                #expect(config.fleetID == "line-9" && config.checkInIntervalS == 600)
                let history = try await device.request(.get, "/api/config/history").json([ConfigChange].self)
                #expect(history.first?.source == .remote && history.first?.fields == ["fleet_id", "check_in_interval_s"])

                try await device.scheduleIdle(.checkIn)
                _ = try await cloud.admin.queueAction(
                    uuid,
                    .configure,
                    config: .object(["display": .object(["timeout_s": .number(-5)]), "x": .null])
                )
                try await device.runSchedule(.checkIn)
                try await eventually { try await cloud.admin.actions(uuid).first?.state == .failed }
                let failed = try #require(try await cloud.admin.actions(uuid).first)
                #expect(failed.detail == "Invalid configuration: display.timeout_s: must be an integer from 0 to 3600")
                #expect(await device.agent.config == config, "nothing changed")
                #expect(try await device.request(.get, "/api/config/history").json([ConfigChange].self).count == history.count)
                // The registry sees the new configuration's hash at the next check-in.
                try await device.scheduleIdle(.checkIn)
                try await device.runSchedule(.checkIn)
                try await eventually { try await cloud.admin.device(uuid).lastCheckIn?.report.configHash == config.hash }
            }
        }
    }
}
