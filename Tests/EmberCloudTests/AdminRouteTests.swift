import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Admin reads, operations endpoints and metrics.
struct AdminRouteTests {
    @Test(arguments: TestDatabase.all)
    func devicesArePagedByKeyset(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            var uuids: [String] = []
            for _ in 0..<5 {
                let device = SimulatedDevice()
                _ = try await client.register(device, key: try await client.mintKey(test.adminToken))
                uuids.append(DeviceUUID.format(device.uuid))
            }
            var seen: [String] = []
            var after: String?
            repeat {
                let uri = "/devices?limit=2" + (after.map { "&after=\($0)" } ?? "")
                let page = try await client.get(uri, token: test.operatorToken).decode(DevicePage.self)
                seen += page.devices.map(\.uuid)
                after = page.nextAfter
            } while after != nil
            #expect(seen == uuids.sorted())
        }
    }

    @Test(arguments: TestDatabase.all)
    func deviceDetailShowsTheManufacturingRecordButNoSecret(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            let key = try await client.mintKey(test.adminToken)
            _ = try await client.register(device, key: key)
            let response = try await client.get("/devices/\(DeviceUUID.format(device.uuid).uppercased())", token: test.adminToken)
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            #expect(try response.decode(DeviceRecord.self).registrationDate == test.now.epochSeconds)
            #expect(text.contains("ESP32-D0WD-V3") && text.contains("coredump"))
            #expect(!text.contains(key))
        }
    }

    @Test(arguments: TestDatabase.all)
    func auditIsPagedAndAdminOnly(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            for _ in 0..<3 { _ = try await client.mintKey(test.adminToken) }
            let response = try await client.get("/audit?limit=2", token: test.adminToken)
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            #expect(text.contains("\"next_after\""))
            #expect(text.contains("token.created"))
        }
    }

    @Test(arguments: TestDatabase.all)
    func healthReadyAndMetrics(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            #expect(String(buffer: try await client.get("/health", token: nil).body) == "{\"status\":\"ok\"}")
            #expect(try await client.get("/ready", token: nil).status == .ok)
            _ = try await client.register(SimulatedDevice(), key: try await client.mintKey(test.adminToken))
            let metrics = String(buffer: try await client.get("/metrics", token: nil).body)
            #expect(metrics.contains("ember_registrations_total{outcome=\"registered\"} 1"))
            #expect(metrics.contains("ember_registration_keys_minted_total 1"))
            #expect(metrics.contains("ember_http_requests_total{route=\"/devices/register\",method=\"POST\",status=\"204\"} 1"))
            #expect(metrics.contains("ember_http_request_duration_seconds_bucket"))
        }
    }

    @Test(arguments: TestDatabase.all)
    func readyIs503WhenTheDatabaseIsGone(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            try await test.store.close()
            let response = try await client.get("/ready", token: nil)
            #expect(response.status == .serviceUnavailable && response.message == "Database unavailable")
        }
    }
}
