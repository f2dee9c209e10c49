import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Malformed requests get a 4xx with a JSON message; none yields a 5xx or changes anything.
struct BadInputTests {
    /// A registration body with one field replaced by raw JSON text.
    static func body(_ field: String, _ json: String) -> String {
        let device = SimulatedDevice()
        var object = (try? device.registrationJSON()) ?? [:]
        object[field] = "__PLACEHOLDER__"
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: .sortedKeys)) ?? Data(), as: UTF8.self)
        return text.replacingOccurrences(of: "\"__PLACEHOLDER__\"", with: json)
    }

    static let hugeString = "\"" + String(repeating: "x", count: 60_000) + "\""

    /// (registration body, content type, expected status)
    static let registrationCases: [(String, String?, Int)] = [
        (body("uuid", "123"), "application/json", 400),
        (body("uuid", "null"), "application/json", 400),
        (body("uuid", "[]"), "application/json", 400),
        (body("uuid", "\"5f8c2a3e-9d41-4b7a-8e20\""), "application/json", 400),
        (body("product_hex", "134620933"), "application/json", 400),
        (body("product_hex", "\"0xGGGGGGGG\""), "application/json", 400),
        (body("product_id", "{}"), "application/json", 400),
        (body("product_id", hugeString), "application/json", 400),
        (body("device_class", "true"), "application/json", 400),
        (body("public_key", "\"@@@@not-base64@@@@\""), "application/json", 400),
        (body("public_key", "\"\(Data(count: 65).base64EncodedString())\""), "application/json", 400),
        (body("public_key", "\"\(Data([4] + [UInt8](repeating: 7, count: 64)).base64EncodedString())\""), "application/json", 400),
        (body("public_key", "\"\(Data([4] + [UInt8](repeating: 7, count: 32)).base64EncodedString())\""), "application/json", 400),
        (body("public_key", "42"), "application/json", 400),
        (body("registering_version", "1.5"), "application/json", 400),
        (body("registering_application", hugeString), "application/json", 400),
        (body("mcu", "[]"), "application/json", 400),
        (body("mcu", "{\"cores\": \"two\"}"), "application/json", 400),
        (body("mcu", "{\"cores\": 1e400}"), "application/json", 400),
        (body("mcu", "{\"features\": \"BLE\"}"), "application/json", 400),
        (body("mcu", "{\"revision\": -99999999999999999999999}"), "application/json", 400),
        (body("network", "{}"), "application/json", 400),
        (body("network", "[{\"interface\": 1, \"mac_address\": \"AA:BB:CC:DD:EE:FF\"}]"), "application/json", 400),
        (body("network", "[{\"interface\": \"wifi\", \"mac_address\": \"not a mac\"}]"), "application/json", 400),
        (body("partitions", "[{\"type\": \"app\"}]"), "application/json", 400),
        (body("partitions", "[1, 2, 3]"), "application/json", 400),
        ("", "application/json", 400),
        ("{", "application/json", 400),
        ("[]", "application/json", 400),
        ("null", "application/json", 400),
        ("\"just a string\"", "application/json", 400),
        ("{\"uuid\": \"\u{0000}\"}", "application/json", 400),
        (String(repeating: "{\"a\":", count: 5_000), "application/json", 400),
        (body("uuid", "\"5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12\""), nil, 415),
        (body("uuid", "\"5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12\""), "text/plain", 415),
        (body("uuid", "\"5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12\""), "application/x-www-form-urlencoded", 415),
        ("{\"pad\": \"" + String(repeating: "y", count: 70_000) + "\"}", "application/json", 413),
    ]

    @Test(arguments: TestDatabase.all)
    func malformedRegistrationsAre4xxWithAMessageAndSpendNothing(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.failedAttemptLimit = 1_000 }) { test, client in
            let key = try await client.mintKey(test.adminToken)
            for (index, (body, contentType, status)) in Self.registrationCases.enumerated() {
                let response = try await client.register(Data(body.utf8), key: key, contentType: contentType)
                #expect(Int(response.status.code) == status, "case \(index)")
                #expect(response.message?.isEmpty == false, "case \(index) has no JSON message")
            }
            #expect(try await test.keyRecord(key)?.spentAt == nil)
            #expect(try await test.store.devices(limit: 10, after: nil, filter: DeviceFilter()).isEmpty)
        }
    }

    @Test(arguments: TestDatabase.all)
    func malformedAdminAndDeviceRequestsAre4xxWithAMessage(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let admin: HTTPFields = [.authorization: "Bearer \(test.adminToken)"]
            let cases: [(String, HTTPRequest.Method, HTTPFields, Int)] = [
                ("/devices?limit=0", .get, admin, 400), ("/devices?limit=abc", .get, admin, 400), ("/devices?limit=100000", .get, admin, 400),
                ("/devices?after=not-a-uuid", .get, admin, 400), ("/devices/not-a-uuid", .get, admin, 400),
                ("/devices/\(UUID())", .get, admin, 404), ("/audit?after=-5", .get, admin, 400), ("/audit?limit=-1", .get, admin, 400),
                ("/registration-keys/NOPE00", .delete, admin, 404), ("/devices/\(UUID())/registration", .get, [:], 400),
                ("/devices/not-a-uuid/registration", .get, [:], 400), ("/no/such/route", .get, [:], 404),
                ("/registration-keys", .put, admin, 404), ("/devices/register", .get, [:], 404),
            ]
            for (uri, method, headers, status) in cases {
                let response = try await client.execute(uri: uri, method: method, headers: headers)
                #expect(Int(response.status.code) == status, "\(method) \(uri)")
                #expect(response.message?.isEmpty == false, "\(method) \(uri) has no JSON message")
            }
        }
    }
}
