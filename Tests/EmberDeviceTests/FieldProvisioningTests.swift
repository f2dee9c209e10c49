import EmberClient
import EmberCore
import EmberDevice
import EmberHTTP
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Field provisioning on the device in process (lifecycle §7): the access point, `GET/PUT /api/provisioning`, every
/// refusal, the Wi-Fi and validation failures, the state across reboots, a factory reset. The whole flow with a claim
/// and a power loss runs with real processes in FieldProvisioningEndToEndTests.
struct FieldProvisioningTests {
    static let home = ["Home": "correct-horse"]

    /// A board whose simulated world has the `Home` network.
    static func wifiBoard(_ board: URL) throws {
        try SimulatedBoard.update(board) { $0.wifiNetworks = home }
    }

    static func put(_ device: TestDevice, _ json: String) async throws -> TestResponse {
        try await device.request(.put, "/api/provisioning", json: json)
    }

    static func status(_ device: TestDevice) async throws -> ProvisioningStatus {
        let response = try await device.request(.get, "/api/provisioning", authorized: false)
        #expect(response.status == .ok)
        return try response.json(ProvisioningStatus.self)
    }

    @Test func aWiredBoardIsOperationalAndHasNothingToProvision() async throws {
        try await TestDevice.with { device in
            let status = try await Self.status(device)
            #expect(status == ProvisioningStatus(state: .operational, apSSID: nil, error: nil))
            let body = String(buffer: try await device.request(.get, "/api/provisioning", authorized: false).body)
            #expect(body.contains(#""ap_ssid":null"#) && body.contains(#""error":null"#), "every field is in the answer: \(body)")
            _ = try await device.provision()
            let refused = try await Self.put(device, #"{"wifi":{"ssid":"Home","password":"correct-horse"}}"#)
            #expect(refused.status == .conflict)
            #expect(refused.message == "This board is wired: it has no Wi-Fi to provision")
        }
    }

    @Test func aWiFiBoardWithoutANetworkAdvertisesItsAccessPoint() async throws {
        try await TestDevice.with(waitForClock: false, prepare: Self.wifiBoard) { device in
            try await eventually { try await device.events().map(\.text).contains("Provisioning mode") }
            let status = try await Self.status(device)
            let mac = try #require(await device.agent.board.macAddresses[.wifi]).bytes.suffix(2).map { String(format: "%02X", $0) }.joined()
            #expect(status.state == .provisioning && status.apSSID == "FireFly-\(mac)" && status.error == nil, "\(status)")
            let screen = try String(contentsOf: device.folder.appendingPathComponent("display.txt"), encoding: .utf8)
            #expect(screen.contains("AP: FireFly-\(mac)\n") && screen.contains("Setup: waiting for Wi-Fi") && screen.contains("Token: "), "\(screen)")
            #expect(await !device.agent.clockSynchronized, "no network: no NTP")

            let anonymous = try await device.request(.put, "/api/provisioning", authorized: false, json: #"{"wifi":{"ssid":"Home"}}"#)
            #expect(anonymous.status == .unauthorized, "starting it needs the visual token")
            let blank = try await Self.put(device, #"{"wifi":{"ssid":"Home","password":"correct-horse"}}"#)
            #expect(blank.status == .conflict && blank.message == "Device identity not provisioned")
            _ = try await device.provision()
            let register = try await device.request(.post, "/api/registration", headers: [.xRegistrationKey: "ABCDEF"])
            #expect(register.status == .conflict)
            #expect(register.message == "The device has no network: provision its Wi-Fi first (PUT /api/provisioning)")
        }
    }

    @Test func badProvisioningRequestsAreRefusedWithTheFieldToFix() async throws {
        try await TestDevice.with(waitForClock: false, prepare: Self.wifiBoard) { device in
            _ = try await device.provision()
            let cases: [(String, String)] = [
                (#"{}"#, "Field wifi.ssid is required: the network to join"),
                (#"{"wifi":{"ssid":""}}"#, "Field wifi.ssid is required: the network to join"),
                (#"{"wifi":{"ssid":"\#(String(repeating: "x", count: 33))"}}"#, "Field wifi.ssid must be at most 32 bytes"),
                (#"{"wifi":{"ssid":"Home","password":"short"}}"#, "Field wifi.password must be 8 to 63 printable ASCII characters (WPA2)"),
                (#"{"wifi":{"ssid":"Home"},"cloud_url":"ftp://x"}"#, "Field cloud_url must be an https:// URL"),
                (
                    #"{"wifi":{"ssid":"Home"},"cloud_url":"https://r.example","claim_token":"abc"}"#,
                    "Field claim_token must be 8 characters of \(String(VisualAlphabet.characters))"
                ),
                (#"{"wifi":{"ssid":"Home"}}"#, "Field cloud_url is required: this device has no cloud configured"),
                (#"{"wifi":"Home"}"#, ""),
                (#"not json"#, ""),
            ]
            for (json, message) in cases {
                let response = try await Self.put(device, json)
                #expect(response.status == .badRequest, "\(json)")
                if !message.isEmpty { #expect(response.message?.hasPrefix(message) == true, "\(json): \(response.message ?? "")") }
            }
            let empty = try await device.request(.put, "/api/provisioning")
            #expect(empty.status == .badRequest && empty.message == "Request requires a body")
            #expect(try await Self.status(device).state == .provisioning, "nothing started")
            #expect(!device.folder.appendingPathComponent("config/provisioning.json").exists)
        }
    }

    @Test func aWrongPasswordOrAnUnknownNetworkFailsAndTheFailureSurvivesAReboot() async throws {
        try await TestDevice.with(waitForClock: false, prepare: Self.wifiBoard) { device in
            _ = try await device.provision()
            let unknown = try await Self.put(device, #"{"wifi":{"ssid":"Cafe","password":"whatever1"},"cloud_url":"http://127.0.0.1:9"}"#)
            #expect(unknown.status == .accepted, "\(unknown.message ?? "")")
            try await eventually { try await Self.status(device).state == .failed }
            #expect(try await Self.status(device).error == "WiFi network Cafe not found")

            let wrong = try await Self.put(device, #"{"wifi":{"ssid":"Home","password":"wrong-horse"},"cloud_url":"http://127.0.0.1:9"}"#)
            #expect(wrong.status == .accepted)
            #expect(try wrong.json(ProvisioningStatus.self).state == .connecting)
            try await eventually { try await Self.status(device).state == .failed }
            #expect(try await Self.status(device).error == "WiFi authentication failed")
            #expect(try await device.events().map(\.text).contains("Provisioning fail"))
            let errors = try await device.request(.get, "/api/errors", authorized: false)
            #expect(!String(buffer: errors.body).contains("wrong-horse"), "the password is in no log")
            let screen = try String(contentsOf: device.folder.appendingPathComponent("display.txt"), encoding: .utf8)
            #expect(screen.contains("Setup failed: WiFi authentication failed"), "\(screen)")
            let sealed = try Data(contentsOf: device.folder.appendingPathComponent("config/provisioning.json"))
            #expect(sealed.range(of: Data("WiFi".utf8)) == nil, "the record is sealed")

            try await device.agent.reboot()
            let after = try await Self.status(device)
            #expect(after.state == .failed && after.error == "WiFi authentication failed", "the failure survives the restart: \(after)")
            #expect(await device.agent.config.wifi.ssid.isEmpty, "a network that refused the board is not configured")
        }
    }

    @Test func anUnregisteredDeviceFailsValidation() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(waitForClock: false, prepare: Self.wifiBoard) { device in
                _ = try await device.provision()
                let started = try await Self.put(device, #"{"wifi":{"ssid":"Home","password":"correct-horse"},"cloud_url":"\#(cloud.url)"}"#)
                #expect(started.status == .accepted)
                try await eventually { try await Self.status(device).state == .failed }
                #expect(try await Self.status(device).error == "Device not registered")
                #expect(await device.agent.clockSynchronized, "the network came up and the clock synchronized")
                let config = String(buffer: try await device.request(.get, "/api/config").body)
                #expect(config.contains(#""ssid":"Home""#) && config.contains(#""password_set":true"#), "\(config)")
                #expect(await device.agent.config.cloudURL != cloud.url, "a cloud that does not know the device is not saved")
            }
        }
    }

    @Test func aSecondRequestWaitsForTheStepsUnderWay() async throws {
        let slowClock: (URL) throws -> Void = { board in
            try Self.wifiBoard(board)
            try SimulatedBoard.update(board) { $0.faults.clockSyncDelaySeconds = 30 }
        }
        try await TestDevice.with(waitForClock: false, prepare: slowClock) { device in
            _ = try await device.provision()
            let body = #"{"wifi":{"ssid":"Home","password":"correct-horse"},"cloud_url":"http://127.0.0.1:9"}"#
            #expect(try await Self.put(device, body).status == .accepted)
            try await eventually { device.clock.sleeping(on: .clockSync) > 0 }
            let again = try await Self.put(device, body)
            #expect(again.status == .conflict && again.message == "Provisioning already in progress (connecting)", "\(again.message ?? "")")
        }
    }

    @Test func aRegisteredBoardBecomesOperationalAndAFactoryResetReturnsItToProvisioning() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                let uuid = try await device.register(with: cloud)
                // Shipped: the board now reaches the network only over Wi-Fi, and has none configured.
                try Self.wifiBoard(device.folder)
                try await device.agent.reboot()
                #expect(try await Self.status(device).state == .provisioning)
                let started = try await Self.put(device, #"{"wifi":{"ssid":"Home","password":"correct-horse"}}"#)
                #expect(started.status == .accepted, "the configured cloud is the default: \(started.message ?? "")")
                try await eventually { try await Self.status(device).state == .operational }
                let texts = try await device.events().map(\.text)
                for step in ["WiFi connecting", "WiFi connected", "Cloud validating", "Cloud registered", "Operational"] {
                    #expect(texts.contains(step), "\(step) in \(texts)")
                }
                #expect(!texts.contains("Device claiming"), "no claim token, no claim")
                #expect(!device.folder.appendingPathComponent("config/provisioning.json").exists, "nothing secret is left")
                try await eventually { (try? await cloud.admin.device(uuid).lastCheckIn) != nil }
                let operational = try await Self.put(device, #"{"wifi":{"ssid":"Home","password":"correct-horse"}}"#)
                #expect(operational.status == .conflict)

                try await device.agent.reboot()
                try await eventually { try await Self.status(device).state == .operational }
                #expect(await device.agent.networkUp, "the configured network is joined at boot")

                #expect(try await device.request(.post, "/api/factory-reset", json: #"{"uuid":"\#(uuid)"}"#).status == .noContent)
                try await eventually { try await Self.status(device).state == .provisioning }
                #expect(await device.agent.config.wifi.ssid.isEmpty)
            }
        }
    }
}

extension URL {
    fileprivate var exists: Bool { FileManager.default.fileExists(atPath: path) }
}
