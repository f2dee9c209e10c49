import EmberClient
import EmberCore
import EmberTestSupport
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Decommissioning and key rotation with the real `ember serve` and `ember device run`, power loss included.
@Suite(.serialized)
struct LifecycleEndToEndTests {
    typealias Device = DeviceAgentTests.Device
    static let bootstrap = DeviceAgentTests.bootstrap

    /// A registry that answers check-ins with the 10 s minimum interval.
    static func cloud(_ folder: URL, port: Int = 0) async throws -> EmberProcess {
        try await EmberProcess(
            database: "sqlite:\(folder.path)/ember.sqlite",
            folder: folder,
            environment: ["EMBER_BOOTSTRAP_TOKEN": bootstrap],
            arguments: ["--check-in-interval", "10"],
            port: port
        )
    }

    static func configFiles(_ board: URL) -> Set<String> { BoardFolder.configFiles(board) }

    static func display(_ board: URL) -> String {
        (try? String(contentsOf: board.appendingPathComponent("display.txt"), encoding: .utf8)) ?? ""
    }

    /// Starts the agent of an existing board without authorizing (a decommission at boot changes the token).
    static func agent(_ board: URL, _ folder: URL) async throws -> EmberProcess {
        try await EmberProcess(
            command: ["device", "run", "--dir", board.path, "--port", "0", "--retry-cap", "0.5", "--log-level", "debug"],
            folder: folder
        )
    }

    static let factoryState: Set<String> = ["decommissioned.json", "events.json", "errors.json"]

    /// Waits (bounded) for `condition`.
    static func waitUntil(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    @Test func aRemoteDecommissionLocksOutAtOnceAndWipesWithinOneCheckInInterval() async throws {
        try await withTemporaryFolder { folder in
            let cloud = try await Self.cloud(folder)
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let board = folder.appendingPathComponent("board")
            let device = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL)
            let uuid = try await device.register(admin: admin)
            #expect(try await device.call(.PUT, "/backup", json: #"{"site":"north"}"#).status == 204)
            #expect(try await device.call(.POST, "/api/cloud-backup").status == 200)
            #expect(try await Self.waitUntil(10) { try await admin.device(uuid).lastCheckIn != nil }, "a check-in at boot")

            let queued = try await EmberProcess.run(
                ["devices", "decommission", uuid, "--reason", "end of life", "--server", cloud.baseURL, "--token", Self.bootstrap]
            )
            #expect(queued.status == 0, "\(queued.output)")
            let refused = try await device.call(.POST, "/api/cloud-backup")
            #expect(refused.status == 502 && refused.body.contains(Data(#""status":410"#.utf8)), "the next signed request is 410 at once")
            #expect(try await admin.device(uuid).backup == nil)

            let started = Date()
            #expect(try await Self.waitUntil(15) { Self.display(board).contains("\nDecommissioned\n") }, "wiped within one check-in interval")
            #expect(Date().timeIntervalSince(started) < 12)
            #expect(Self.configFiles(board).isSubset(of: Self.factoryState), "\(Self.configFiles(board))")
            let audit = String(decoding: try await admin.send(.GET, "/audit?limit=1000").body, as: UTF8.self)
            #expect(audit.contains("device.decommission_notice") && audit.contains("Decommissioning"), "the audit row carries the device's log")
            #expect(try await admin.actions(uuid).first?.state == .done)
            let listed = try await EmberProcess.run([
                "devices", "list", "--state", "decommissioned", "--server", cloud.baseURL, "--token", Self.bootstrap,
            ])
            #expect(listed.output.contains(uuid))
            let notices = try await EmberProcess.run([
                "audit", "--action", "device.decommission_notice", "--json", "--server", cloud.baseURL, "--token", Self.bootstrap,
            ])
            let page = try JSONDecoder().decode(AuditPage.self, from: Data(notices.output.utf8))
            #expect(!page.entries.isEmpty && page.entries.allSatisfy { $0.action == "device.decommission_notice" })
            #expect(page.entries.contains { $0.subject.contains(uuid) || $0.actor.contains(uuid) })
        }
    }

    @Test func aDeviceDecommissionedWhilePoweredOffWipesAtItsNextBoot() async throws {
        try await withTemporaryFolder { folder in
            let cloud = try await Self.cloud(folder)
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let board = folder.appendingPathComponent("board")
            let first = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL)
            let uuid = try await first.register(admin: admin)
            try await first.process.stop(signal: SIGTERM)
            _ = try await admin.queueAction(uuid, .decommission, reason: "lost in transit")
            #expect(try await admin.device(uuid).state == "decommissioned", "in the registry at once")

            let second = try await Self.agent(board, folder)
            #expect(try await Self.waitUntil(15) { Self.display(board).contains("\nDecommissioned\n") }, "\(second.output)")
            #expect(Self.configFiles(board).isSubset(of: Self.factoryState), "\(Self.configFiles(board))")
        }
    }

    @Test func aLocalDecommissionWithTheRegistryDownNotifiesWhenItReturns() async throws {
        try await withTemporaryFolder { folder in
            var cloud = try await Self.cloud(folder)
            let port = cloud.port
            let board = folder.appendingPathComponent("board")
            let device = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL)
            let uuid = try await device.register(admin: RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap))
            try await cloud.stop(signal: SIGTERM)

            let decommissioned = try await EmberProcess.run(["device", "decommission", "--dir", board.path], timeout: 60)
            #expect(decommissioned.status == 0, "\(decommissioned.output)")
            #expect(decommissioned.output.contains("could not be reached"))
            #expect(try await Self.waitUntil(10) { Self.display(board).contains("\nDecommissioned\n") })
            #expect(Self.configFiles(board).isSubset(of: Self.factoryState.union(["decommission-pending"])))
            #expect(Self.configFiles(board).contains("decommission-pending"), "only the marker is kept for the notice")

            cloud = try await Self.cloud(folder, port: port)
            #expect(try await Self.waitUntil(20) { !Self.configFiles(board).contains("decommission-pending") }, "the notice lands")
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            #expect(try await admin.device(uuid).state == "decommissioned")
        }
    }

    @Test(arguments: ["decommission-logged", "decommission-marker-written", "decommission-notified", "decommission-wiped"])
    func powerLossDuringADecommissionEndsInTheFactoryState(point: String) async throws {
        try await withTemporaryFolder { folder in
            let cloud = try await Self.cloud(folder)
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let board = folder.appendingPathComponent("board")
            let first = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL)
            let uuid = try await first.register(admin: admin)
            #expect(try await first.call(.PATCH, "/api/config", json: #"{"region":"eu-west"}"#).status == 200)
            try await first.process.stop(signal: SIGTERM)
            _ = try await admin.queueAction(uuid, .decommission, reason: "power-loss test")

            // The boot's check-in delivers the action; the board loses power at the checkpoint (maybe before it listens).
            let fault = try await EmberProcess.run(["device", "fault", "--dir", board.path, "--power-loss-at", point])
            #expect(fault.status == 0, "\(fault.output)")
            let lost = try await EmberProcess.run(["device", "run", "--dir", board.path, "--port", "0", "--retry-cap", "0.5"], timeout: 30)
            #expect(lost.status == SIGKILL, "the board lost power at \(point): \(lost.output)")
            if point == "decommission-logged" {
                let events = (try? String(contentsOf: board.appendingPathComponent("config/events.json"), encoding: .utf8)) ?? ""
                #expect(events.contains("Decommissioning") && Self.configFiles(board).contains("settings.json"), "logged before anything was erased")
            }

            let third = try await Self.agent(board, folder)
            #expect(
                try await Self.waitUntil(20) { Self.configFiles(board).isSubset(of: Self.factoryState) },
                "\(Self.configFiles(board)) \(third.output)"
            )
            // The display follows the wipe: it may lag the files by a moment.
            #expect(try await Self.waitUntil(10) { Self.display(board).contains("\nDecommissioned\n") }, "\(Self.display(board))")
            #expect(try await admin.device(uuid).state == "decommissioned")
            #expect(try await Self.waitUntil(10) { try await admin.actions(uuid).first?.state == .done }, "the notice completed the action")
        }
    }

    @Test(arguments: ["rotation-pending-written", "rotation-submitted", "rotation-current"])
    func powerLossDuringARotationLeavesADeviceThatAuthenticates(point: String) async throws {
        try await withTemporaryFolder { folder in
            let cloud = try await Self.cloud(folder)
            let admin = RegistryClient(baseURL: cloud.baseURL, token: Self.bootstrap)
            let board = folder.appendingPathComponent("board")
            let first = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL, faults: ["--power-loss-at", point])
            let uuid = try await first.register(admin: admin)
            let rotate = try await EmberProcess.run(["device", "rotate-key", "--dir", board.path])
            #expect(rotate.status != 0, "the agent died during the rotation")
            #expect(try await first.process.waitForExit())

            let second = try await Device.start(board: board, folder: folder, cloud: cloud.baseURL, create: false)
            #expect(try await Self.waitUntil(15) { try await admin.device(uuid).keyEpoch == 1 }, "the rotation finished after the restart")
            let keys = try await admin.device(uuid).keys?.map(\.state)
            #expect(keys == [.retired, .active])
            #expect(try await second.registered(), "the signed check passes with the new key")
            #expect(try await second.call(.PUT, "/backup", json: "{}").status == 204)
            #expect(try await second.call(.POST, "/api/cloud-backup").status == 200)
            let shown = try await EmberProcess.run(["device", "show", "--dir", board.path, "--json"]).output
            #expect(shown.contains(#""key_epoch":1"#) && shown.contains(#""rotation_pending":false"#), "\(shown)")
        }
    }
}
