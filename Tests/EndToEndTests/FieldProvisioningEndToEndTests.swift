import EmberClient
import EmberCore
import Foundation
import NIOHTTP1
import Testing

/// Seed 003's field flow with the real `ember serve` and `ember device run` (lifecycle §7): a registered board is
/// shipped to a place with Wi-Fi, a user provisions it with a claim token, it comes up bound to that user's account —
/// through a wrong password, a power loss while claiming, and a factory reset.
@Suite(.serialized)
struct FieldProvisioningEndToEndTests {
    typealias Device = DeviceAgentTests.Device
    static let bootstrap = DeviceAgentTests.bootstrap
    static let waitUntil = LifecycleEndToEndTests.waitUntil

    /// A user token of a new account, made with the CLI on the registry's database.
    static func user(_ name: String, cloud: EmberProcess, database: String) async throws -> (account: String, client: RegistryClient) {
        let account = try await RegistryClient(baseURL: cloud.baseURL, token: bootstrap).createAccount(name: name).id
        let made = try await EmberProcess.run([
            "admin", "token", "create", "--name", "user-\(name)", "--role", "user", "--account", account, "--database", database,
        ])
        #expect(made.status == 0, "\(made.output)")
        let token = try #require(made.output.split(separator: "\n").first { !$0.contains(" ") }.map(String.init), "\(made.output)")
        return (account, RegistryClient(baseURL: cloud.baseURL, token: token))
    }

    static func status(_ device: Device) async throws -> [String: Any] {
        let reply = try await device.client.send(.GET, "/api/provisioning")
        return try JSONSerialization.jsonObject(with: reply.body) as? [String: Any] ?? [:]
    }

    @Test func aShippedBoardIsProvisionedAndClaimedThroughAWrongPasswordAPowerLossAndAFactoryReset() async throws {
        try await withTemporaryFolder { folder in
            let database = "sqlite:\(folder.path)/ember.sqlite"
            let cloud = try await EmberProcess(database: database, folder: folder, environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap])
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let alice = try await Self.user("alice", cloud: cloud, database: database)
            let bob = try await Self.user("bob", cloud: cloud, database: database)

            // The factory: a wired board gets its identity and its registration.
            let board = folder.appendingPathComponent("board")
            let factory = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL)
            let uuid = try await factory.register(admin: admin)
            #expect(try await factory.process.stop(signal: SIGTERM) == 0)

            // Shipped: the board's world has Wi-Fi and nothing else; it loses power when the registry accepts the claim.
            let shipped = try await Device.start(
                board: board,
                folder: folder,
                cloud: cloud.baseURL,
                create: false,
                faults: ["--wifi-network", "Home=correct-horse", "--power-loss-at", "claim-accepted"]
            )
            #expect(try await Self.waitUntil(10) { try await Self.status(shipped)["state"] as? String == "provisioning" })
            let ap = try #require(try await Self.status(shipped)["ap_ssid"] as? String)
            #expect(ap.count == 12 && ap.hasPrefix("FireFly-"), "\(ap)")
            #expect(LifecycleEndToEndTests.display(board).contains("AP: \(ap)"))
            let claim = try await alice.client.mintClaimToken().claimToken

            let wrong = try await EmberProcess.run([
                "device", "provision", "--dir", board.path, "--wifi", "Home=wrong-horse", "--claim-token", claim, "--timeout", "20",
            ])
            #expect(wrong.status != 0 && wrong.output.contains("WiFi authentication failed"), "\(wrong.output)")
            let failed = try await Self.status(shipped)
            #expect(failed["state"] as? String == "failed" && failed["error"] as? String == "WiFi authentication failed")

            // The right password: joined, validated, and the power fails once the registry bound the device.
            let body = #"{"wifi":{"ssid":"Home","password":"correct-horse"},"claim_token":"\#(claim.lowercased())"}"#
            let started = try await shipped.call(.PUT, "/api/provisioning", json: body)
            #expect(started.status == 202, "\(started.message)")
            #expect(try await shipped.process.waitForExit(timeout: 20), "power lost at claim-accepted")
            #expect(try await admin.device(uuid).ownerAccount == alice.account, "the registry bound it before the power failed")

            // Power back: the board resumes, claims again (answered 200: its token), and is operational once.
            let resumed = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL, create: false)
            #expect(try await Self.waitUntil(20) { try await Self.status(resumed)["state"] as? String == "operational" })
            let events = try await resumed.events()
            #expect(events.contains("Provisioning resume"), "\(events)")
            #expect(events.filter { $0 == "Device claimed" }.count == 1 && events.filter { $0 == "Operational" }.count == 1, "\(events)")
            let audit = String(decoding: try await admin.send(.GET, "/audit?limit=1000").body, as: UTF8.self)
            #expect(audit.components(separatedBy: "\"device.claimed\"").count == 2, "one claim in the audit trail")
            #expect(!audit.contains(claim) && !resumed.process.output.contains(claim), "the claim token is in no log")
            #expect(!resumed.process.output.contains("correct-horse"), "nor the Wi-Fi password")

            #expect(try await alice.client.devices().devices.map(\.uuid) == [uuid], "visible to its owner")
            #expect(try await bob.client.devices().devices.isEmpty, "and to no other user")
            #expect(try await bob.client.send(.GET, "/devices/\(uuid)").status == 404)
            #expect(try await Self.waitUntil(15) { (try? await admin.device(uuid).lastCheckIn) != nil }, "it checks in")

            // A factory reset forgets the Wi-Fi: provisioning again, then the CLI brings it back for the same account.
            #expect(try await resumed.call(.POST, "/api/factory-reset", json: #"{"uuid":"\#(uuid)"}"#).status == 204)
            #expect(try await Self.waitUntil(15) { try await Self.status(resumed)["state"] as? String == "provisioning" })
            let again = try await alice.client.mintClaimToken().claimToken
            let provisioned = try await EmberProcess.run([
                "device", "provision", "--dir", board.path, "--wifi", "Home=correct-horse", "--claim-token", again, "--timeout", "20",
            ])
            #expect(provisioned.status == 0, "\(provisioned.output)")
            #expect(
                ["WiFi connected", "Cloud validating", "Device claimed", "Operational and claimed"].allSatisfy(provisioned.output.contains),
                "every step is shown: \(provisioned.output)"
            )
            #expect(try await admin.device(uuid).ownerAccount == alice.account)
            let shown = try await EmberProcess.run(["device", "show", "--dir", board.path])
            #expect(shown.output.contains("network      Wi-Fi Home; in range: Home"), "\(shown.output)")
        }
    }
}
