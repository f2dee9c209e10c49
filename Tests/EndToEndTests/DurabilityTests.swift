import EmberClient
import EmberCore
import EmberFleet
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import NIOHTTP1
#endif

/// The real binary over loopback: registrations survive SIGKILL; SIGTERM shuts down cleanly.
@Suite(.serialized)
struct DurabilityTests {
    static let bootstrap = "e2e-bootstrap-token-0123456789"

    @Test func hundredRegistrationsSurviveSIGKILL() async throws {
        try await withTemporaryFolder { folder in
            let database = "sqlite:\(folder.path)/ember.sqlite"
            let first = try await EmberProcess(database: database, folder: folder, environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap])
            let client = RegistryClient(baseURL: first.baseURL, token: Self.bootstrap)
            let devices = (0..<100).map { _ in SimulatedDevice() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in stride(from: 0, to: devices.count, by: 10) {
                    group.addTask {
                        for device in devices[chunk..<chunk + 10] {
                            let key = try await client.mintKey().key
                            let reply = try await client.register(try device.registrationBody(), key: key)
                            #expect(reply.status == 204, "\(reply.message)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let before = try await Self.allDevices(client)
            #expect(before.count == 100)
            try await first.stop(signal: SIGKILL)

            let second = try await EmberProcess(database: database, folder: folder)
            let after = try await Self.allDevices(RegistryClient(baseURL: second.baseURL, token: Self.bootstrap))
            #expect(after == before)
            #expect(Set(after.keys) == Set(devices.map { DeviceUUID.format($0.uuid) }))

            let device = devices[42]
            let now = DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
            let check = try await RegistryClient(baseURL: second.baseURL).registrationStatus(master: device.master, uuid: device.uuid, at: now)
            #expect(check.status == 200, "\(check.message)")
            #expect(try await second.stop(signal: SIGTERM) == 0)
        }
    }

    @Test func sigtermStopsGracefullyAndSecretsStayOutOfTheLog() async throws {
        try await withTemporaryFolder { folder in
            let server = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite",
                folder: folder,
                environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap],
                arguments: ["--log-level", "trace"],
                quiet: false
            )
            let client = RegistryClient(baseURL: server.baseURL, token: Self.bootstrap)
            #expect(try await client.send(.GET, "/health").status == 200)
            let spent = try await client.mintKey().key
            let revoked = try await client.mintKey().key
            _ = try await client.register(try SimulatedDevice().registrationBody(), key: spent)
            try await client.revokeKey(revoked)
            _ = try await client.register(try SimulatedDevice().registrationBody(), key: revoked)
            #expect(try await server.stop(signal: SIGTERM) == 0)
            let log = server.output
            #expect(log.contains("database closed"))
            #expect(
                log.contains("never signed v2; v1 binds neither method, path nor body, so serve only behind TLS, and start with --require"),
                "the start-up warning while v1 is allowed, one sentence without stray spaces"
            )
            #expect(log.contains("http.route=/registration-keys/{key}"))
            #expect(log.contains("hb.request.id="), "the logger's own metadata, formatted when a line is written")
            for secret in [Self.bootstrap, spent, revoked] {
                #expect(!log.contains(secret), "the log shows a secret")
            }
        }
    }

    /// Every device's registration date, by UUID, read page by page.
    static func allDevices(_ client: RegistryClient) async throws -> [String: Int64] {
        var dates: [String: Int64] = [:]
        var after: String?
        repeat {
            let page = try await client.devices(limit: 37, after: after)
            for device in page.devices { dates[device.uuid] = device.registrationDate }
            after = page.nextAfter
        } while after != nil
        return dates
    }
}
