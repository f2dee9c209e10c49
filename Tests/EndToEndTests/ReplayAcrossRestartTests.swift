import EmberClient
import EmberCore
import EmberFleet
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The security review's finding 6 against the real binary: a signed request accepted before a restart was accepted
/// again after it, because the nonces lived in memory.
@Suite(.serialized)
struct ReplayAcrossRestartTests {
    static let bootstrap = "e2e-bootstrap-token-0123456789"

    @Test(arguments: [SIGTERM, SIGKILL])
    func aSignedRequestAcceptedBeforeARestartIsRefusedAfterIt(signal: Int32) async throws {
        try await withTemporaryFolder { folder in
            let database = "sqlite:\(folder.path)/ember.sqlite"
            let first = try await EmberProcess(database: database, folder: folder, environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap])
            let admin = RegistryClient(baseURL: first.baseURL, token: Self.bootstrap)
            let device = SimulatedDevice()
            #expect(try await admin.register(try device.registrationBody(), key: try await admin.mintKey().key).status == 204)
            let now = DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
            let path = "/devices/\(DeviceUUID.format(device.uuid))/backup"
            let delete = try device.sign(method: "DELETE", path: path, at: now).fields.map { ($0.name, $0.value) }
            let check = try device.sign(method: "GET", path: "/devices/\(DeviceUUID.format(device.uuid))/registration", at: now)
                .fields.map { ($0.name, $0.value) }
            #expect(try await RegistryClient(baseURL: first.baseURL).send(.DELETE, path, headers: delete).status == 200)
            #expect(
                try await RegistryClient(baseURL: first.baseURL).send(.GET, "/devices/\(DeviceUUID.format(device.uuid))/registration", headers: check)
                    .status == 200
            )
            _ = try await first.stop(signal: signal)

            let second = try await EmberProcess(database: database, folder: folder)
            let anonymous = RegistryClient(baseURL: second.baseURL)
            let replays: [(HTTPMethod, String, [(String, String)])] = [
                (.DELETE, path, delete), (.GET, "/devices/\(DeviceUUID.format(device.uuid))/registration", check),
            ]
            for (method, target, headers) in replays {
                let replay = try await anonymous.send(method, target, headers: headers)
                #expect(replay.status == 401 && replay.message == "Nonce already used", "\(method) after restart: \(replay.status) \(replay.message)")
            }
            // A fresh request with an in-window timestamp is accepted right after the start.
            let fresh = try await anonymous.registrationStatus(master: device.master, uuid: device.uuid, at: now)
            #expect(fresh.status == 200, "\(fresh.message)")
            #expect(try await second.stop(signal: SIGTERM) == 0)
        }
    }
}
