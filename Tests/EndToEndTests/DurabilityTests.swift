import EmberClient
import EmberCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
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

    @Test func sigtermStopsGracefullyAndClosesTheDatabase() async throws {
        try await withTemporaryFolder { folder in
            let server = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite", folder: folder, environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap])
            let health = try await RegistryClient(baseURL: server.baseURL).send(.GET, "/health")
            #expect(health.status == 200)
            #expect(try await server.stop(signal: SIGTERM) == 0)
            #expect(server.output.contains("database closed"))
            #expect(!server.output.contains(Self.bootstrap))
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
