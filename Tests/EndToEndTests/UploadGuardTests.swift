import EmberClient
import EmberCore
import EmberFleet
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The security review's finding 2 against the real binary: backup bodies were read (512 KiB each) before the
/// request was authenticated, and without bound.
@Suite(.serialized)
struct UploadGuardTests {
    static let bootstrap = "e2e-bootstrap-token-0123456789"

    /// A backup upload's head for `uuid` with `headers`, announcing a full-size body that is never sent.
    static func head(uuid: String, headers: [(String, String)]) -> String {
        var lines = [
            "POST /devices/\(uuid)/backup HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/octet-stream",
            "Content-Length: \(BackupLimits.maxBlob)",
        ]
        lines += headers.map { "\($0.0): \($0.1)" }
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }

    @Test func aStrangersUploadIsRefusedBeforeItsBodyAndUploadsAreBounded() async throws {
        try await withTemporaryFolder { folder in
            let server = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite",
                folder: folder,
                environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap],
                arguments: ["--concurrent-uploads", "2"]
            )
            let admin = RegistryClient(baseURL: server.baseURL, token: Self.bootstrap)
            let device = SimulatedDevice()
            #expect(try await admin.register(try device.registrationBody(), key: try await admin.mintKey().key).status == 204)
            let uuid = DeviceUUID.format(device.uuid)
            let now = DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
            func signed() throws -> [(String, String)] {
                try device.sign(method: "POST", path: "/devices/\(uuid)/backup", body: Data(count: BackupLimits.maxBlob), at: now).fields
                    .map { ($0.name, $0.value) }
            }

            // Answered while the announced body has not been sent: nothing of it was waited for.
            let stranger = SimulatedDevice()
            let strangerHeaders = try stranger.sign(method: "POST", path: "/devices/\(DeviceUUID.format(stranger.uuid))/backup", at: now)
            let anonymous = try RawConnection(port: server.port)
            anonymous.send(Self.head(uuid: DeviceUUID.format(stranger.uuid), headers: strangerHeaders.fields.map { ($0.name, $0.value) }))
            #expect(anonymous.read(within: 10).text.hasPrefix("HTTP/1.1 401"), "unknown device")
            let unsigned = try RawConnection(port: server.port)
            unsigned.send(Self.head(uuid: uuid, headers: []))
            #expect(unsigned.read(within: 10).text.hasPrefix("HTTP/1.1 400"), "no signature headers")
            let stale = try RawConnection(port: server.port)
            let old = try device.sign(method: "POST", path: "/devices/\(uuid)/backup", at: DeviceTimestamp(epochSeconds: now.epochSeconds - 600))
            stale.send(Self.head(uuid: uuid, headers: old.fields.map { ($0.name, $0.value) }))
            #expect(stale.read(within: 10).text.hasPrefix("HTTP/1.1 401"), "outside the window")

            // Two uploads hold the two slots (their bodies never come); the third is told to come back.
            let holders = try (0..<2).map { _ in try RawConnection(port: server.port) }
            for holder in holders { holder.send(Self.head(uuid: uuid, headers: try signed())) }
            for _ in 0..<100 {  // bounded wait until the server has read both heads
                let metrics = String(decoding: try await admin.send(.GET, "/metrics").body, as: UTF8.self)
                if metrics.contains("ember_backup_uploads_in_progress 2") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let third = try RawConnection(port: server.port)
            third.send(Self.head(uuid: uuid, headers: try signed()))
            let refused = third.read(within: 10).text
            #expect(refused.hasPrefix("HTTP/1.1 503") && refused.lowercased().contains("retry-after: 2"), "\(refused)")
            for holder in holders + [third, anonymous, unsigned, stale] { holder.close() }
            try await server.stop(signal: SIGTERM)
        }
    }
}
