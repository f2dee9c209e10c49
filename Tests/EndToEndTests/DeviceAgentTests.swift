import EmberClient
import EmberCore
import EmberSystem
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `ember serve` and `ember device run` as real processes on loopback.
@Suite(.serialized)
struct DeviceAgentTests {
    static let bootstrap = "e2e-device-bootstrap-token-0123"

    /// A running `ember device run` and the operator's calls to it.
    struct Device {
        let process: EmberProcess
        let board: URL
        let token: String
        var client: RegistryClient { RegistryClient(baseURL: process.baseURL) }

        /// Creates the board (first time) and starts the agent; authorizes with the token on its display.
        static func start(
            board: URL,
            folder: URL,
            cloud: String,
            create: Bool = true,
            faults: [String] = [],
            environment: [String: String] = [:]
        ) async throws -> Device {
            if create {
                let made = try await EmberProcess.run(["device", "init", "--product", "FFC0806-2305", "--dir", board.path, "--cloud", cloud])
                #expect(made.status == 0, "\(made.output)")
            }
            if !faults.isEmpty {
                let fault = try await EmberProcess.run(["device", "fault", "--dir", board.path] + faults)
                #expect(fault.status == 0, "\(fault.output)")
            }
            let display = board.appendingPathComponent("display.txt")
            try? FileManager.default.removeItem(at: display)
            let process = try await EmberProcess(
                command: ["device", "run", "--dir", board.path, "--port", "0", "--retry-cap", "0.5", "--log-level", "debug"],
                folder: folder,
                environment: environment
            )
            var token: String?
            let deadline = Date().addingTimeInterval(10)
            while token == nil && Date() < deadline {
                let text = (try? String(contentsOf: display, encoding: .utf8)) ?? ""
                token = text.split(separator: "\n").first { $0.hasPrefix("Token: ") }.map { String($0.dropFirst(7)) }
                if token == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let device = Device(process: process, board: board, token: try #require(token, "no token on the display"))
            #expect(try await device.call(.POST, "/auth").status == 204)
            return device
        }

        func call(
            _ method: HTTPMethod,
            _ path: String,
            headers: [(String, String)] = [],
            json: String? = nil,
            body: Data? = nil
        )
            async throws -> RegistryClient.Reply
        {
            var all = headers + [("visual-token", token)]
            if json != nil { all.append(("Content-Type", "application/json")) }
            return try await client.send(method, path, headers: all, body: json.map { Data($0.utf8) } ?? body)
        }

        /// The master key in the board's BLOCK3: only tests read it, to play a second device or a forger.
        var master: MasterKey {
            get throws { try MasterKey(bytes: Data(contentsOf: board.appendingPathComponent("efuse.bin")).subdata(in: 32..<64)) }
        }

        func register(admin: RegistryClient) async throws -> String {
            let uuid = try await provision()
            let reply = try await call(.POST, "/api/registration", headers: [("X-Registration-Key", try await admin.mintKey().key)])
            #expect(reply.status == 204, "\(reply.message)")
            return uuid
        }

        func provision() async throws -> String {
            let uuid = UUID().uuidString.lowercased()
            let reply = try await call(.POST, "/api/identity", json: #"{"uuid":"\#(uuid)","product_id":"FFC0806-2305","product_hex":"0x08062305"}"#)
            #expect(reply.status == 201, "\(reply.message)")
            return uuid
        }

        func identityUUID() async throws -> String {
            let reply = try await call(.GET, "/api/identity")
            return (try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["uuid"] as? String ?? ""
        }

        func events() async throws -> [String] {
            let reply = try await call(.GET, "/api/events")
            let list = try JSONSerialization.jsonObject(with: reply.body) as? [[String: Any]] ?? []
            return list.compactMap { $0["text"] as? String }
        }

        func registered() async throws -> Bool {
            let reply = try await call(.GET, "/api/registration")
            guard reply.status == 200 else { return false }
            return (try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["registered"] as? Bool == true
        }
    }

    @Test func provisionRegisterRebootAndCheck() async throws {
        try await withTemporaryFolder { folder in
            let cloud = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite",
                folder: folder,
                environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap],
                quiet: false
            )
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let board = folder.appendingPathComponent("board")
            let device = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL)
            let uuid = try await device.provision()

            let wrong = try await device.call(.POST, "/api/registration", headers: [("X-Registration-Key", "WRONG1")])
            #expect(wrong.status == 403 && wrong.message == "Invalid or expired registration key")
            #expect(try await device.events().last == "Cloud reg fail")

            let key = try await admin.mintKey().key
            let reply = try await device.call(.POST, "/api/registration", headers: [("X-Registration-Key", key)])
            #expect(reply.status == 204, "\(reply.message)")
            #expect(try await device.registered())
            #expect(try await admin.devices().devices.map(\.uuid) == [uuid])

            #expect(try await device.call(.POST, "/api/mcu/reboot").status == 204)
            let deadline = Date().addingTimeInterval(10)
            var afterReboot: [String] = []
            while Date() < deadline {
                let events = try await device.events()
                afterReboot = events.lastIndex(of: "Rebooting...").map { Array(events[$0...]) } ?? []
                if afterReboot.contains("Cloud registered") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(afterReboot.filter { $0.hasPrefix("Cloud") } == ["Cloud reg check", "Cloud registered"])

            // Key hygiene: BLOCK3 appears nowhere but in the eFuse file.
            let efuse = try Data(contentsOf: board.appendingPathComponent("efuse.bin"))
            let master = efuse.subdata(in: 32..<64)
            let forms = [
                master.map { String(format: "%02x", $0) }.joined(), master.map { String(format: "%02X", $0) }.joined(),
                master.base64EncodedString(),
            ]
            var texts: [String: String] = ["device log": device.process.output, "cloud log": cloud.output]
            for path in [
                "/api/network", "/api/mcu", "/api/identity", "/api/registration", "/api/version", "/api/events", "/api/errors",
                "/api/partitions", "/api/peripherals", "/api/checks",
            ] {
                let reply = try await device.call(.GET, path)
                texts[path] = String(decoding: reply.body, as: UTF8.self) + reply.headers.map { "\($0.0): \($0.1)" }.joined()
            }
            texts["device show"] = try await EmberProcess.run(["device", "show", "--dir", board.path, "--json"]).output
            texts["cloud record"] = String(decoding: try await admin.deviceJSON(uuid), as: UTF8.self)
            let files = FileManager.default.enumerator(at: board, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
            for file in files where file.lastPathComponent != "efuse.bin" {
                guard let data = try? Data(contentsOf: file) else { continue }
                #expect(data.range(of: master) == nil, "raw master key bytes in \(file.lastPathComponent)")
                texts[file.path] = String(decoding: data, as: UTF8.self)
            }
            #expect(files.count > 4)
            for (source, text) in texts {
                for form in forms { #expect(!text.contains(form), "the master key appears in \(source)") }
                #expect(!text.contains(key), "the registration key appears in \(source)")
            }
            #expect(try await device.process.stop(signal: SIGTERM) == 0)
        }
    }

    @Test func encryptedBackupRoundTripAndIsolationBetweenDevices() async throws {
        try await withTemporaryFolder { folder in
            let cloud = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite",
                folder: folder,
                environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap]
            )
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let first = try await Device.start(board: folder.appendingPathComponent("a"), folder: folder, cloud: cloud.baseURL)
            let second = try await Device.start(board: folder.appendingPathComponent("b"), folder: folder, cloud: cloud.baseURL)
            let uuid = try await first.register(admin: admin)
            _ = try await second.register(admin: admin)

            var text = #"{"formatName":"dexie","formatVersion":1,"data":{"tables":[],"data":["#
            for index in 0..<9_200 { text += (index == 0 ? "" : ",") + #"{"id":\#(index),"name":"Circuit \#(index)"}"# }
            let plaintext = Data((text + "]}}").utf8)
            #expect(plaintext.count >= 300 * 1024 && plaintext.count <= 512 * 1024)
            #expect(try await first.call(.PUT, "/backup", body: plaintext).status == 204)
            let etag = try #require(try await first.call(.HEAD, "/backup").headers.first { $0.0.lowercased() == "etag" }?.1)
            #expect(etag == BackupETag.quoted(BackupETag.of(plaintext)))

            let pushed = try await first.call(.POST, "/api/cloud-backup")
            #expect(pushed.status == 200 && String(decoding: pushed.body, as: UTF8.self) == #"{"status":200}"#)
            #expect(try await first.call(.DELETE, "/backup").status == 204)
            let restored = try await first.call(.GET, "/api/cloud-backup")
            #expect(restored.status == 200 && restored.body == plaintext)
            #expect(restored.headers.first { $0.0.lowercased() == "etag" }?.1 == etag)
            #expect(try await first.call(.GET, "/backup").body == plaintext)
            #expect(String(decoding: try await first.call(.POST, "/api/cloud-backup").body, as: UTF8.self) == #"{"status":304}"#)
            let record = try JSONSerialization.jsonObject(with: try await admin.deviceJSON(uuid)) as? [String: Any]
            #expect((record?["backup"] as? [String: Any])?["etag"] as? String == BackupETag.of(plaintext))

            // The second device can neither fetch the first one's backup nor pass for it.
            let path = "/devices/\(uuid)/backup"
            let now = DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
            let otherKey = try second.master
            let signedAsItself = try RequestSigner.sign(
                master: otherKey,
                uuid: try #require(DeviceUUID.parse(try await second.identityUUID())),
                version: .v2,
                method: "GET",
                path: path,
                at: now
            )
            let cloudClient = RegistryClient(baseURL: cloud.baseURL)
            #expect(try await cloudClient.send(.GET, path, headers: signedAsItself.fields.map { ($0.name, $0.value) }).status == 403)
            let forged = try RequestSigner.sign(
                master: otherKey,
                uuid: try #require(DeviceUUID.parse(uuid)),
                version: .v2,
                method: "GET",
                path: path,
                at: now
            )
            #expect(try await cloudClient.send(.GET, path, headers: forged.fields.map { ($0.name, $0.value) }).status == 401)

            // A blob sealed under the second device's backup key, stored by the first: the tag check refuses it.
            let foreign = try FFCEContainer.seal(Data(#"{"evil":true}"#.utf8), using: otherKey.derive(.backup))
            let upload = try RequestSigner.sign(
                master: try first.master,
                uuid: try #require(DeviceUUID.parse(uuid)),
                version: .v2,
                method: "POST",
                path: path,
                body: foreign,
                at: now
            )
            let stored = try await cloudClient.send(
                .POST,
                path,
                headers: upload.fields.map { ($0.name, $0.value) } + [("Content-Type", "application/octet-stream")],
                body: foreign
            )
            #expect(stored.status == 200)
            let refused = try await first.call(.GET, "/api/cloud-backup")
            #expect(refused.status == 502 && refused.message.contains("does not decrypt"))
            #expect(try await first.call(.GET, "/backup").body == plaintext, "the local file is untouched")
        }
    }

    @Test func automaticBackupFollowsCloudBackupIntervalSeconds() async throws {
        try await withTemporaryFolder { folder in
            let cloud = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite",
                folder: folder,
                environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap]
            )
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let device = try await Device.start(
                board: folder.appendingPathComponent("board"),
                folder: folder,
                cloud: cloud.baseURL,
                environment: ["CLOUD_BACKUP_INTERVAL_SECONDS": "1"]
            )
            _ = try await device.register(admin: admin)
            #expect(try await device.call(.PUT, "/backup", body: Data(#"{"formatName":"dexie"}"#.utf8)).status == 204)
            let deadline = Date().addingTimeInterval(10)
            var events: [String] = []
            while Date() < deadline {
                events = try await device.events()
                if events.contains("Backup uploaded OK") && events.contains("Backup unchanged") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(events.contains("Backup upload start"))
            #expect(events.contains("Backup uploaded OK") && events.contains("Backup unchanged"))
        }
    }

    @Test func cloudDownGives502AndTheDeviceRegistersWhenItIsBack() async throws {
        try await withTemporaryFolder { folder in
            let database = "sqlite:\(folder.path)/ember.sqlite"
            let first = try await EmberProcess(database: database, folder: folder, environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap])
            let port = first.port
            let key = try await RegistryClient(baseURL: first.baseURL, token: Self.bootstrap).mintKey().key
            try await first.stop(signal: SIGTERM)

            let device = try await Device.start(board: folder.appendingPathComponent("board"), folder: folder, cloud: first.baseURL)
            let uuid = try await device.provision()
            let reply = try await device.call(.POST, "/api/registration", headers: [("X-Registration-Key", key)])
            #expect(reply.status == 502, "\(reply.message)")
            #expect(try await device.events().contains("Cloud reg fail"))
            let retryDeadline = Date().addingTimeInterval(15)
            while Date() < retryDeadline, !device.process.output.contains("retrying") { try await Task.sleep(for: .milliseconds(50)) }
            #expect(device.process.output.contains("retrying"), "the device retries while the cloud is down")

            let second = try await EmberProcess(database: database, folder: folder, port: port)
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline, try await !device.registered() { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try await device.registered())
            let admin = RegistryClient(baseURL: second.baseURL, token: Self.bootstrap)
            #expect(try await admin.devices().devices.map(\.uuid) == [uuid])
            #expect(try await admin.listKeys().isEmpty, "the key was spent by the retry")
        }
    }

    @Test(arguments: ["registration-marker-written", "registration-accepted"])
    func powerLossDuringRegistrationEndsRegisteredOnceWithOneKey(point: String) async throws {
        try await withTemporaryFolder { folder in
            let cloud = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite",
                folder: folder,
                environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap]
            )
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let board = folder.appendingPathComponent("board")
            let first = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL, faults: ["--power-loss-at", point])
            let uuid = try await first.provision()
            let key = try await admin.mintKey().key
            _ = try? await first.call(.POST, "/api/registration", headers: [("X-Registration-Key", key)])
            #expect(try await first.process.waitForExit(), "the board lost power")
            #expect(first.process.process.termination == .signaled(SIGKILL))
            let shown = try await EmberProcess.run(["device", "show", "--dir", board.path, "--json"]).output
            #expect(shown.contains(#""registration_pending":true"#), "the marker survived the power loss")

            let second = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL, create: false)
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline, try await !second.registered() { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try await second.registered())
            #expect(try await admin.devices().devices.map(\.uuid) == [uuid], "exactly one device row")
            #expect(try await admin.listKeys().isEmpty, "the one key is spent and no other was needed")
            let events = try await second.events()
            #expect(events.contains("Cloud reg resume"))
            #expect(!events.suffix(from: try #require(events.lastIndex(of: "Cloud reg resume"))).contains("Cloud reg fail"))
            let after = try await EmberProcess.run(["device", "show", "--dir", board.path, "--json"]).output
            #expect(after.contains(#""registration_pending":false"#))
        }
    }
}
