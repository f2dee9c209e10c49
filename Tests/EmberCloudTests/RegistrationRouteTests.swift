import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// `POST /devices/register`: every row of the contract table, the order of checks, races and expiry.
struct RegistrationRouteTests {
    @Test(arguments: TestDatabase.all)
    func newDeviceIsRegisteredAndTheKeySpent(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let key = try await client.mintKey(test.operatorToken)
            let device = SimulatedDevice()
            let response = try await client.register(device, key: key)
            #expect(response.status == .noContent)
            #expect(response.body.readableBytes == 0)
            let stored = try #require(try await test.store.device(uuid: DeviceUUID.format(device.uuid)))
            #expect(stored.registrationDate == test.clock.now())
            #expect(stored.registeredBy == "operator")
            #expect(stored.publicKey == (try device.master.publicKey().base64))
            #expect(stored.mcu == (try device.registrationBody().mcu))
            #expect(stored.network.count == 4 && stored.partitions.count == 7)
            let record = try #require(try await test.keyRecord(key))
            #expect(record.spentBy == stored.uuid && record.spentAt == test.clock.now())
        }
    }

    @Test(arguments: TestDatabase.all)
    func uuidIsStoredLowerCase(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            var body = try device.registrationJSON()
            body["uuid"] = DeviceUUID.format(device.uuid).uppercased()
            let response = try await client.register(try JSONSerialization.data(withJSONObject: body), key: try await client.mintKey(test.adminToken))
            #expect(response.status == .noContent)
            #expect(try await test.store.device(uuid: DeviceUUID.format(device.uuid)) != nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func sameUUIDAndKeyRepeatIs204WithoutSpendingTheKey(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            #expect(try await client.register(device, key: try await client.mintKey(test.adminToken)).status == .noContent)
            let date = try await test.store.device(uuid: DeviceUUID.format(device.uuid))?.registrationDate
            test.clock.advance(by: 100)
            let second = try await client.mintKey(test.adminToken)
            #expect(try await client.register(device, key: second).status == .noContent)
            #expect(try await test.keyRecord(second)?.spentAt == nil)
            #expect(try await test.store.device(uuid: DeviceUUID.format(device.uuid))?.registrationDate == date)
        }
    }

    @Test(arguments: TestDatabase.all)
    func retryWithTheKeyThisDeviceSpentIs204(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            let key = try await client.mintKey(test.adminToken)
            #expect(try await client.register(device, key: key).status == .noContent)
            // The reply was lost (the instance died): the device retries with the same UUID, key and public key.
            #expect(try await client.register(device, key: key).status == .noContent)
            // The spent key still registers nothing else, not even the same UUID with another public key.
            #expect(try await client.register(SimulatedDevice(), key: key).status == .unauthorized)
            #expect(try await client.register(SimulatedDevice(uuid: device.uuid), key: key).status == .unauthorized)
            #expect(try await test.store.devices(limit: 10, after: nil, filter: DeviceFilter()).count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func differentPublicKeyForAKnownUUIDIs409AndChangesNothing(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            #expect(try await client.register(device, key: try await client.mintKey(test.adminToken)).status == .noContent)
            let impostor = SimulatedDevice(uuid: device.uuid)
            let key = try await client.mintKey(test.adminToken)
            let response = try await client.register(impostor, key: key)
            #expect(response.status == .conflict)
            #expect(response.message == "Device already registered with a different public key")
            #expect(try await test.store.device(uuid: DeviceUUID.format(device.uuid))?.publicKey == (try device.master.publicKey().base64))
            #expect(try await test.keyRecord(key)?.spentAt == nil)
        }
    }

    @Test(arguments: TestDatabase.all, [nil, "", "ABC", "ABCDE", "ABCDEFG"] as [String?])
    func keyHeaderMissingOrNotSixCharactersIs400(database: TestDatabase, key: String?) async throws {
        try await TestRegistry.with(on: database) { _, client in
            let response = try await client.register(try JSONEncoder().encode(SimulatedDevice().registrationBody()), key: key)
            #expect(response.status == .badRequest)
            #expect(response.message == "X-Registration-Key header is required and must be 6 characters")
        }
    }

    @Test(arguments: TestDatabase.all)
    func keyHeaderIsCheckedBeforeTheBody(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { _, client in
            let response = try await client.register(Data("{}".utf8), key: "X")
            #expect(response.message == "X-Registration-Key header is required and must be 6 characters")
        }
    }

    @Test(
        arguments: TestDatabase.all,
        ["uuid", "product_id", "product_hex", "device_class", "public_key", "registering_application", "registering_version", "mcu"]
    )
    func missingFieldIs400Required(database: TestDatabase, field: String) async throws {
        try await TestRegistry.with(on: database) { test, client in
            var body = try SimulatedDevice().registrationJSON()
            body[field] = nil
            let key = try await client.mintKey(test.adminToken)
            let response = try await client.register(try JSONSerialization.data(withJSONObject: body), key: key)
            #expect(response.status == .badRequest)
            #expect(response.message == "\(field) is required")
            #expect(try await test.keyRecord(key)?.spentAt == nil)
        }
    }

    @Test(
        arguments: TestDatabase.all,
        [
            ("uuid", "nope", "uuid must be a valid UUID"), ("product_hex", "0x123", "product_hex must match 0xXXXXXXXX"),
            ("public_key", "AAAA", "public_key must be a Base64-encoded uncompressed P-256 point (65 bytes, prefix 0x04)"),
        ]
    )
    func malformedFieldIs400WithFireFlysMessage(database: TestDatabase, fieldCase: (String, String, String)) async throws {
        let (field, value, message) = fieldCase
        try await TestRegistry.with(on: database) { test, client in
            var body = try SimulatedDevice().registrationJSON()
            body[field] = value
            let response = try await client.register(try JSONSerialization.data(withJSONObject: body), key: try await client.mintKey(test.adminToken))
            #expect(response.status == .badRequest)
            #expect(response.message == message)
        }
    }

    @Test(arguments: TestDatabase.all)
    func unknownSpentRevokedAndExpiredKeysAre401(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let message = "Invalid or expired registration key"
            let unknown = try await client.register(SimulatedDevice(), key: "ZZZZZZ")
            #expect(unknown.status == .unauthorized && unknown.message == message)

            let spent = try await client.mintKey(test.adminToken)
            #expect(try await client.register(SimulatedDevice(), key: spent).status == .noContent)
            let reuse = try await client.register(SimulatedDevice(), key: spent)
            #expect(reuse.status == .unauthorized && reuse.message == message)

            let revoked = try await client.mintKey(test.adminToken)
            _ = try await client.execute(
                uri: "/registration-keys/\(revoked)",
                method: .delete,
                headers: [.authorization: "Bearer \(test.adminToken)"]
            )
            #expect(try await client.register(SimulatedDevice(), key: revoked).message == message)

            let expiring = try await client.mintKey(test.adminToken)
            test.clock.advance(by: 1_799)
            let stillGood = try await client.mintKey(test.adminToken)
            test.clock.advance(by: 1)
            let expired = try await client.register(SimulatedDevice(), key: expiring)
            #expect(expired.status == .unauthorized && expired.message == message)
            #expect(try await client.register(SimulatedDevice(), key: stillGood).status == .noContent)
        }
    }

    @Test(arguments: TestDatabase.all)
    func keysAreCaseInsensitive(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let key = try await client.mintKey(test.adminToken)
            #expect(try await client.register(SimulatedDevice(), key: key.lowercased()).status == .noContent)
        }
    }

    @Test(arguments: TestDatabase.all)
    func eleventhFailedAttemptIn60sIs429UntilTheOldestFailureAges(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            for attempt in 0..<10 {
                #expect(try await client.register(SimulatedDevice(), key: "BADKY\(attempt)").status == .unauthorized)
                test.clock.advance(by: 1)
            }
            let good = try await client.mintKey(test.adminToken)
            let blocked = try await client.register(SimulatedDevice(), key: good)
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.message == "Too many failed registration attempts; retry later")
            #expect(blocked.headers[.retryAfter] == "50")
            // Blocked before body checks: even a broken body gets 429.
            #expect(try await client.register(Data("{}".utf8), key: good).status == .tooManyRequests)
            test.clock.advance(by: 50)
            #expect(try await client.register(SimulatedDevice(), key: good).status == .noContent)
        }
    }

    /// The security review's finding: the limit was checked when headers arrived and counted after the database
    /// answered, so concurrent wrong keys were all judged.
    @Test(arguments: TestDatabase.all)
    func fiveHundredConcurrentWrongKeysAreJudgedAtMostTenTimes(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let statuses = try await Self.concurrentWrongKeys(500, clients: [client])
            #expect(statuses.filter { $0 == 401 }.count <= 10)
            #expect(statuses.filter { $0 == 401 }.count >= 1)
            #expect(statuses.filter { $0 == 429 }.count == 500 - statuses.filter { $0 == 401 }.count)
        }
    }

    /// A factory behind one NAT address: more right keys at once than the failure limit all register (they queue
    /// behind the attempts in flight), none gets 429.
    @Test(arguments: TestDatabase.all)
    func thirtyConcurrentRightKeysFromOneAddressAllRegister(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            var keys: [String] = []
            for _ in 0..<30 { keys.append(try await client.mintKey(test.adminToken)) }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for key in keys { group.addTask { Int(try await client.register(SimulatedDevice(), key: key).status.code) } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 204, count: 30), "\(statuses.sorted())")
        }
    }

    /// Sends `count` registrations with distinct wrong keys at once, spread over `clients`; their statuses.
    static func concurrentWrongKeys(_ count: Int, clients: [any TestClientProtocol]) async throws -> [Int] {
        let body = try JSONEncoder().encode(SimulatedDevice().registrationBody())
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<count {
                let client = clients[index % clients.count]
                let key = String(format: "W%05d", index)
                group.addTask { Int(try await client.register(body, key: key).status.code) }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
    }

    @Test(arguments: TestDatabase.all)
    func fiftyRacingRegistrationsWithOneKeyMakeExactlyOneDevice(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.failedAttemptLimit = 1_000 }) { test, client in
            let key = try await client.mintKey(test.adminToken)
            let devices = (0..<50).map { _ in SimulatedDevice() }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for device in devices {
                    group.addTask { Int(try await client.register(device, key: key).status.code) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 204 }.count == 1)
            #expect(statuses.filter { $0 == 401 }.count == 49)
            #expect(try await test.store.devices(limit: 100, after: nil, filter: DeviceFilter()).count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func successAndRefusalsAreAudited(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            let key = try await client.mintKey(test.adminToken)
            _ = try await client.register(device, key: key)
            _ = try await client.register(SimulatedDevice(), key: key)
            _ = try await client.register(SimulatedDevice(uuid: device.uuid), key: try await client.mintKey(test.adminToken))
            let entries = try await test.store.auditEntries(limit: 100, after: nil)
            let actions = entries.map(\.action)
            #expect(actions.contains("key.minted"))
            #expect(actions.contains("device.registered"))
            #expect(entries.filter { $0.action == "registration.refused" }.map(\.detail).contains { $0.hasPrefix("invalid or expired key") })
            #expect(entries.filter { $0.action == "registration.refused" }.map(\.detail).contains { $0.hasPrefix("different public key") })
            #expect(!entries.contains { $0.detail.contains(key) || $0.subject.contains(key) })
        }
    }
}
