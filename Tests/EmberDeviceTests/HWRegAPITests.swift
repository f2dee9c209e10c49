import EmberClient
import EmberCore
import EmberDevice
import EmberHTTP
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOFoundationEssentialsCompat
import Testing

/// Every row of device.md's HW-Reg API table, against a simulated board (and a real registry where the cloud answers).
@Suite struct HWRegAPITests {
    @Test func publicRoutesNeedNoToken() async throws {
        try await TestDevice.with { device in
            let network = try await device.request(.get, "/api/network", authorized: false)
            #expect(network.status == .ok)
            let interfaces = try network.json([NetworkInterface].self)
            #expect(interfaces.map(\.interface) == ["wifi", "wifi_ap", "bluetooth", "ethernet"])
            #expect(interfaces.allSatisfy { MACAddress($0.macAddress)?.description == $0.macAddress })
            let ethernet = try await device.request(.get, "/api/network/ethernet", authorized: false)
            #expect(try ethernet.json(NetworkInterface.self) == interfaces[3])
            let unknown = try await device.request(.get, "/api/network/token-ring", authorized: false)
            #expect(unknown.status == .notFound && unknown.message?.contains("Unknown interface") == true)

            let mcu = try JSONSerialization.jsonObject(with: Data(buffer: try await device.request(.get, "/api/mcu", authorized: false).body))
            let fields = try #require(mcu as? [String: Any])
            for key in [
                "chip_model", "revision", "cpu_freq_mhz", "chip_cores", "sdk_version", "flash_chip_size", "flash_chip_speed",
                "flash_chip_mode", "free_heap", "psram_size", "free_psram", "chip_features", "boot_time",
            ] {
                #expect(fields[key] != nil, "mcu.\(key)")
            }
            #expect(fields["revision"] is String)
            #expect((fields["boot_time"] as? Int ?? 0) > 1_000_000_000, "epoch seconds once the clock is synchronized")

            let partitions = try await device.request(.get, "/api/partitions", authorized: false).json([PartitionEntry].self)
            #expect(partitions == (try ProductCatalog.bundled.product(named: "FFC0806-2305").partitions))
            let peripherals = try await device.request(.get, "/api/peripherals", authorized: false).json([Peripheral].self)
            #expect(peripherals.map(\.addressText) == ["0x20", "0x21", "0x40", "0x48", "0x3C", "0x00"])
            #expect(peripherals.last?.kind == .nvs && peripherals.allSatisfy(\.online))
            let checks = try await device.request(.get, "/api/checks", authorized: false).json(CheckReport.self)
            #expect(checks.passed)

            let version = try await device.request(.get, "/api/version", authorized: false)
            #expect(version.headers[.server] == "Hardware-Registration-and-Configuration/0.1.0")
            #expect(version.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil, "no origin is allowed unless configured")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: version.body)) as? [String: Any])
            #expect(body["product_hex"] as? String == "0x08062305")
            #expect((body["application"] as? [String: Any])?["name"] as? String == "Hardware-Registration-and-Configuration")
            #expect(try await device.request(.get, "/api/errors", authorized: false).json([ErrorEntry].self).isEmpty)
            #expect(try await device.events().contains { $0.text == "Event log started" })
        }
    }

    /// The security review's low: `Access-Control-Allow-Origin: *` let any web page the operator opened send wrong
    /// tokens in the operator's name until the operator was locked out of the device.
    @Test func onlyConfiguredOriginsGetCORSAndAMissingTokenIsNoAttempt() async throws {
        let origin = HTTPField.Name("Origin")!
        let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
        let tools: (inout AgentConfiguration) -> Void = { $0.allowedOrigins = ["https://tools.example.com"] }
        try await TestDevice.with(configure: tools) { device in
            let foreign = try await device.request(.options, "/api/identity", authorized: false, headers: [origin: "https://evil.example"])
            #expect(foreign.status == .forbidden && foreign.headers[allowOrigin] == nil)
            #expect(foreign.message?.contains("--allowed-origin") == true)
            let tools = try await device.request(.options, "/api/identity", authorized: false, headers: [origin: "https://tools.example.com"])
            #expect(tools.status == .ok && tools.headers[allowOrigin] == "https://tools.example.com")
            #expect(tools.headers[.vary] == "Origin")
            let read = try await device.request(.get, "/api/version", authorized: false, headers: [origin: "https://evil.example"])
            #expect(read.status == .ok && read.headers[allowOrigin] == nil, "a browser keeps the answer from the foreign page")

            // Requests without a token (all a foreign page can send without a preflight) are not failed attempts.
            for _ in 0..<20 { #expect(try await device.request(.get, "/api/identity", authorized: false).status == .unauthorized) }
            #expect(try await device.request(.get, "/api/identity").status != .tooManyRequests)
        }
        let anyOrigin: (inout AgentConfiguration) -> Void = { $0.allowedOrigins = ["*"] }
        try await TestDevice.with(configure: anyOrigin) { device in
            let any = try await device.request(.options, "/api/identity", authorized: false, headers: [origin: "https://anywhere.example"])
            #expect(any.status == .ok && any.headers[allowOrigin] == "*", "FireFly's behaviour, when asked for")
        }
    }

    @Test func tokenRoutesAnswer401WithJSONWithoutOrWithAStaleToken() async throws {
        try await TestDevice.with { device in
            let routes: [(HTTPRequest.Method, String)] = [
                (.post, "/auth"), (.get, "/api/identity"), (.post, "/api/identity"), (.get, "/api/registration"),
                (.post, "/api/registration"), (.post, "/api/mcu/reboot"), (.get, "/api/zero-touch"), (.put, "/api/provisioning"),
            ]
            let stale = device.token
            device.clock.advance(by: 61)
            for (method, path) in routes {
                let missing = try await device.request(method, path, authorized: false)
                #expect(missing.status == .unauthorized, "\(method) \(path)")
                #expect(missing.message?.contains("visual-token") == true)
                let old = try await device.request(method, path, token: stale)
                #expect(old.status == .unauthorized, "\(method) \(path) with a token older than 60 s")
                #expect(old.message?.contains("Wrong or expired") == true)
            }
        }
    }

    @Test func authTurnsTheTokenIntoAnHourLongAuthorization() async throws {
        try await TestDevice.with { (device: TestDevice) async throws in
            let token = device.token
            #expect(try await device.request(.post, "/auth").status == .noContent)
            device.clock.advance(by: 600)
            #expect(try await device.request(.get, "/api/identity", token: token).status == .notFound)
            device.clock.advance(by: 3_000)
            #expect(try await device.request(.get, "/api/identity", token: token).status == .unauthorized)
        }
    }

    @Test func wrongTokensAreRateLimited() async throws {
        try await TestDevice.with { device in
            for _ in 0..<10 { #expect(try await device.request(.post, "/auth", token: "AAAAAA").status == .unauthorized) }
            let limited = try await device.request(.post, "/auth")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(limited.message?.contains("Too many wrong visual tokens") == true)
        }
    }

    @Test func identityIsValidatedInFireFlysOrderAndBurnedOnce() async throws {
        try await TestDevice.with { device in
            #expect(try await device.request(.get, "/api/identity").status == .notFound)
            let uuid = "5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12"
            let cases: [(String?, String)] = [
                (nil, "Request requires a body"),
                ("{}", "Field uuid is required"),
                (#"{"uuid":"5f8c2a3e"}"#, "Field uuid is not exactly 36 characters"),
                (#"{"uuid":"5F8C2A3E-9D41-4B7A-8E20-1C6D3F9A0B12"}"#, "Invalid uuid, see docs"),
                (#"{"uuid":"5f8c2a3e-9d41-4b7a-8e20_1c6d3f9a0b12"}"#, "Invalid uuid, see docs"),
                (#"{"uuid":"00000000-0000-0000-0000-000000000000"}"#, "Invalid uuid, see docs"),
                (#"{"uuid":"\#(uuid)"}"#, "Field product_id is required"),
                (
                    #"{"uuid":"\#(uuid)","product_id":"\#(String(repeating: "F", count: 33))"}"#,
                    "Field product_id is greater than 32 characters, see docs"
                ),
                (#"{"uuid":"\#(uuid)","product_id":"FFC0806-2305"}"#, "Field product_hex is required"),
                (#"{"uuid":"\#(uuid)","product_id":"FFC0806-2305","product_hex":"0x0806"}"#, "Field product_hex must be exactly 10 characters"),
                (#"{"uuid":"\#(uuid)","product_id":"FFC0806-2305","product_hex":"0x0806230G"}"#, "Invalid product_hex, see docs"),
                (
                    #"{"uuid":"\#(uuid)","product_id":"FFC3232-2603","product_hex":"0x08062305"}"#,
                    "Field product_id does not match product_hex (0x08062305 is FFC0806-2305), see docs"
                ),
                (
                    #"{"uuid":"\#(uuid)","product_id":"FFC3232-2603","product_hex":"0x32322603"}"#,
                    "Field product_hex 0x32322603 does not match this board (0x08062305 FFC0806-2305), see docs"
                ),
                (#"{"uuid":5}"#, "uuid must be a string"),
                (#"{"uuid":"#, "Request body is not valid JSON"),
                ("[1,2]", "Request body must be a JSON object"),
            ]
            for (body, message) in cases {
                let response = try await device.request(.post, "/api/identity", json: body)
                #expect(response.status == .badRequest, "\(body ?? "no body")")
                #expect(response.message == message, "\(body ?? "no body")")
            }
            let notJSON = try await device.request(
                .post,
                "/api/identity",
                headers: [.contentType: "text/plain"]
            )
            #expect(notJSON.message == "Request requires a body")
            let huge = try await device.request(.post, "/api/identity", json: "{\"uuid\":\"" + String(repeating: "a", count: 20_000) + "\"}")
            #expect(huge.status == .contentTooLarge)
            #expect(try await device.agent.identity() == nil, "no bad request burned anything")

            try await device.provision(uuid: uuid)
            let identity = try await device.request(.get, "/api/identity").json(IdentityRequest.self)
            #expect(identity == IdentityRequest(uuid: uuid, productID: "FFC0806-2305", productHex: "0x08062305"))
            let again = try await device.request(
                .post,
                "/api/identity",
                json: #"{"uuid":"\#(UUID().uuidString.lowercased())","product_id":"FFC0806-2305","product_hex":"0x08062305"}"#
            )
            #expect(again.status == .conflict)
            #expect(again.message == "Device already provisioned; eFuse identity cannot be overwritten")
            #expect(try await device.request(.get, "/api/identity").json(IdentityRequest.self) == identity)
            #expect(try await device.events().contains { $0.text == "Wrote device identity" && $0.level == .notify })
        }
    }

    @Test func registrationRefusesWhatItCannotDo() async throws {
        try await TestDevice.with(cloud: "http://127.0.0.1:9") { device in
            let notProvisioned = try await device.request(.post, "/api/registration", headers: [.xRegistrationKey: "ABC123"])
            #expect(notProvisioned.status == .conflict && notProvisioned.message == "Device identity not provisioned")
            #expect(try await device.request(.get, "/api/registration").status == .conflict)
            try await device.provision()
            for key in [nil, "ABC", "ABCDEFG"] {
                var headers: HTTPFields = [:]
                if let key { headers[.xRegistrationKey] = key }
                let response = try await device.request(.post, "/api/registration", headers: headers)
                #expect(response.status == .badRequest)
                #expect(response.message == "X-Registration-Key header is required and must be 6 characters")
            }
            let badURL = try await device.request(
                .post,
                "/api/registration",
                headers: [.xRegistrationKey: "ABC123"],
                json: #"{"url":"ftp://x"}"#
            )
            #expect(
                badURL.status == .badRequest
                    && badURL.message == "Field url must be an https:// URL (http:// only to 127.0.0.1, ::1 or localhost), or empty"
            )
            let badBody = try await device.request(
                .post,
                "/api/registration",
                headers: [.xRegistrationKey: "ABC123"],
                json: #"{"url":5}"#
            )
            #expect(badBody.status == .badRequest && badBody.message == "url must be a string")
        }
    }

    @Test func registrationAndTheCheckWaitForTheClock() async throws {
        try await TestDevice.with(waitForClock: false, prepare: clockNeverSyncs) { device in
            try await device.provision()
            let response = try await device.request(
                .post,
                "/api/registration",
                headers: [.xRegistrationKey: "ABC123"],
                json: #"{"url":"http://127.0.0.1:9"}"#
            )
            #expect(response.status == .serviceUnavailable && response.message == "Clock not synchronized")
            let status = try await device.request(.get, "/api/registration")
            #expect(status.status == .serviceUnavailable && status.message == "Registration check pending")
            let mcu = try JSONSerialization.jsonObject(with: Data(buffer: try await device.request(.get, "/api/mcu").body)) as? [String: Any]
            #expect((mcu?["boot_time"] as? Int ?? -1) < 1_000_000, "seconds since boot while the clock is not synchronized")
            #expect(try await device.events().allSatisfy { $0.time < 1_000_000 })
        }
    }

    @Test func registersWithARealCloudAndChecksAtBoot() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                let uuid = try await device.provision()
                let wrong = try await device.request(.post, "/api/registration", headers: [.xRegistrationKey: "ZZZZZZ"])
                #expect(wrong.status == .forbidden && wrong.message == "Invalid or expired registration key")
                #expect(try await device.events().last?.text == "Cloud reg fail")
                #expect(await device.agent.registrationPending == false)

                let key = try await cloud.admin.mintKey().key
                let response = try await device.request(.post, "/api/registration", headers: [.xRegistrationKey: key])
                #expect(response.status == .noContent, "\(response.message ?? "")")
                let status = try await device.request(.get, "/api/registration")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: status.body)) as? [String: Any])
                #expect(body["registered"] as? Bool == true)
                #expect(body["cloud_api_root"] as? String == cloud.url)
                #expect((body["checked_at"] as? Int ?? 0) > 1_000_000_000)

                let record = try JSONSerialization.jsonObject(with: try await cloud.admin.deviceJSON(uuid)) as? [String: Any]
                #expect(record?["product_id"] as? String == "FFC0806-2305")
                #expect(record?["registering_application"] as? String == "Hardware Registration and Configuration")
                #expect(try await cloud.admin.listKeys().isEmpty, "the key is spent")

                #expect(try await device.request(.post, "/api/mcu/reboot").status == .noContent)
                try await eventually {
                    let events = try await device.events()
                    guard let reboot = events.lastIndex(where: { $0.text == "Rebooting..." }) else { return false }
                    return events[reboot...].contains { $0.text == "Cloud registered" }
                }
                let texts = try await device.events().map(\.text)
                let rebootIndex = try #require(texts.lastIndex(of: "Rebooting..."))
                #expect(Array(texts[rebootIndex...]).filter { $0.hasPrefix("Cloud") } == ["Cloud reg check", "Cloud registered"])
            }
        }
    }

    /// The security review's low: concurrent reboots left duplicate session tasks. Each boot runs one session, so
    /// each boot checks the registration once, however many reboots arrive at once.
    @Test func concurrentRebootsRunOneSessionPerBoot() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                try await device.register(with: cloud)
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<20 { group.addTask { try await device.request(.post, "/api/mcu/reboot").status } }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.contains(.noContent) && statuses.allSatisfy { $0 == .noContent || $0 == .unauthorized })
                try await eventually {
                    let texts = try await device.events().map(\.text)
                    guard let boot = texts.lastIndex(of: "Event log started"), let reboot = texts.lastIndex(of: "Rebooting...") else { return false }
                    return reboot < boot && texts[boot...].contains("Cloud registered")
                }
                let texts = try await device.events().map(\.text)
                let since = Array(texts[try #require(texts.firstIndex(of: "Rebooting..."))...])
                let boots = since.filter { $0 == "Event log started" }.count
                #expect(boots >= 1)
                #expect(since.filter { $0 == "Cloud reg check" }.count == boots, "\(since)")
            }
        }
    }

    @Test func fireFlySignaturesWorkToo() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url, configure: { $0.signature = .v1 }) { device in
                try await device.register(with: cloud)
                try await device.agent.reboot()
                try await eventually {
                    let events = try await device.events().map(\.text)
                    guard let reboot = events.lastIndex(of: "Rebooting...") else { return false }
                    return events[reboot...].contains("Cloud registered")
                }
                #expect(try await device.events().allSatisfy { $0.text != "Cloud reg sig vf fail" })
            }
        }
    }

    @Test func aCloudThatIsDownGives502AndTheDeviceRetries() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url, prepare: { try SimulatedBoard.update($0) { $0.faults.cloudUnreachable = true } }) {
                device in
                try await device.provision()
                let key = try await cloud.admin.mintKey().key
                let response = try await device.request(.post, "/api/registration", headers: [.xRegistrationKey: key])
                #expect(response.status == .badGateway)
                #expect(response.message?.hasPrefix("Cloud registration request failed") == true)
                #expect(await device.agent.registrationPending)
                let status = try await device.request(.get, "/api/registration")
                #expect(status.status == .badGateway && status.message == "Cloud unreachable")
                #expect(try await device.events().contains { $0.text == "Cloud reg fail" && $0.level == .notify })
                #expect(try await cloud.admin.listKeys().map(\.key) == [key], "the key is not spent")
            }
        }
    }

    @Test func failedChecksLandInTheErrorLogAndApiChecks() async throws {
        try await TestDevice.with(prepare: Self.oneInputOfflineAndAWrongPartitionTable) { device in
            let checks = try await device.request(.get, "/api/checks", authorized: false).json(CheckReport.self)
            #expect(!checks.passed && !checks.partitions.passed && !checks.peripherals.passed)
            #expect(checks.peripherals.problems == ["INPUT at 0x21 is offline"])
            #expect(checks.partitions.problems.count == 1 && checks.partitions.problems[0].contains("ui"))
            let errors = try await device.request(.get, "/api/errors", authorized: false).json([ErrorEntry].self).map(\.text)
            #expect(errors == ["Partition table bad", "Inpt ctl 0x21 offline"])
            let peripherals = try await device.request(.get, "/api/peripherals", authorized: false).json([Peripheral].self)
            #expect(peripherals.filter { !$0.online }.map(\.addressText) == ["0x21"])

            try SimulatedBoard.update(device.folder) { spec in
                spec.peripherals[1].online = true
                spec.partitions = try ProductCatalog.bundled.product(spec.productHex).partitions
            }
            #expect(try await device.request(.post, "/api/mcu/reboot").status == .noContent)
            try await eventually { try await device.request(.get, "/api/checks", authorized: false).json(CheckReport.self).passed }
            #expect(
                try await device.request(.get, "/api/errors", authorized: false).json([ErrorEntry].self).isEmpty,
                "fixed faults resolve their errors"
            )
        }
    }

    static func oneInputOfflineAndAWrongPartitionTable(_ board: URL) throws {
        try SimulatedBoard.update(board) { spec in
            spec.peripherals[1].online = false
            spec.partitions = SimulatedBoard.wrongTable(spec.partitions)
        }
    }
}
