import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import EmberTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// `GET /devices/{uuid}/registration` and the signed-request rules.
struct SignedRequestRouteTests {
    /// Registers a fresh device and returns it.
    static func registered(
        _ test: TestRegistry,
        _ client: some TestClientProtocol,
        _ device: SimulatedDevice = SimulatedDevice()
    ) async throws
        -> SimulatedDevice
    {
        let response = try await client.register(device, key: try await client.mintKey(test.adminToken))
        #expect(response.status == .noContent)
        return device
    }

    static func path(_ device: SimulatedDevice) -> String { "/devices/\(DeviceUUID.format(device.uuid))/registration" }

    @Test(arguments: TestDatabase.all, SignatureVersion.allCases)
    func signedCheckReturnsTheFireFlyFields(database: TestDatabase, version: SignatureVersion) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let headers = try device.sign(method: "GET", path: Self.path(device), version: version, at: test.now)
            let response = try await client.checkRegistration(headers)
            #expect(response.status == .ok)
            let status = try response.decode(RegistrationStatus.self)
            #expect(status.uuid == DeviceUUID.format(device.uuid))
            #expect(status.productHex == "0x08062305" && status.productID == "FFC0806-2305" && status.deviceClass == "CONTROLLER")
            #expect(status.registrationDate == test.now.text)
            #expect(status.registeringApplication == "Hardware Registration and Configuration")
        }
    }

    @Test(arguments: TestDatabase.all)
    func vectorDevicesAuthenticateWithTheirOwnV1Signatures(database: TestDatabase) async throws {
        let vectors = try CryptoVectors.load()
        for vector in vectors.devices {
            let timestamp = try #require(DeviceTimestamp(vector.signatureV1.timestamp))
            let clock = timestamp.epochSeconds
            try await TestRegistry.with(on: database) { test, client in
                test.clock.advance(by: clock - test.clock.now())
                let device = SimulatedDevice(
                    uuid: try #require(DeviceUUID.parse(vector.uuid)),
                    master: try MasterKey(bytes: Data(vectorHex: vector.masterKeyHex))
                )
                _ = try await Self.registered(test, client, device)
                let stored = try await test.store.device(uuid: vector.uuid)
                #expect(stored?.publicKey == vector.publicKeyB64)
                let headers = RequestSigner.Headers(
                    uuid: vector.uuid,
                    nonce: vector.signatureV1.nonceB64,
                    timestamp: vector.signatureV1.timestamp,
                    signature: vector.signatureV1.signatureDerB64,
                    version: .v1
                )
                #expect(try await client.checkRegistration(headers).status == .ok)
                var wrong = headers
                wrong.signature = vectors.mustReject.wrongKeySignatureDerB64
                wrong.nonce = Data(repeating: 9, count: 32).base64EncodedString()
                let rejected = try await client.checkRegistration(wrong)
                #expect(rejected.status == .unauthorized && rejected.message == "Signature verification failed")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func replayedRequestIs401(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let headers = try device.sign(method: "GET", path: Self.path(device), at: test.now)
            #expect(try await client.checkRegistration(headers).status == .ok)
            let replay = try await client.checkRegistration(headers)
            #expect(replay.status == .unauthorized && replay.message == "Nonce already used")
        }
    }

    @Test(arguments: TestDatabase.all, [-11, 11] as [Int64])
    func elevenSecondsOffIs401(database: TestDatabase, offset: Int64) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let headers = try device.sign(method: "GET", path: Self.path(device), at: DeviceTimestamp(epochSeconds: test.clock.now() + offset))
            let response = try await client.checkRegistration(headers)
            #expect(response.status == .unauthorized && response.message == "X-Device-Timestamp is outside the acceptance window")
        }
    }

    @Test(arguments: TestDatabase.all, [-10, 10] as [Int64])
    func tenSecondsOffIsAccepted(database: TestDatabase, offset: Int64) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let headers = try device.sign(method: "GET", path: Self.path(device), at: DeviceTimestamp(epochSeconds: test.clock.now() + offset))
            #expect(try await client.checkRegistration(headers).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.all)
    func malformedHeadersAre400InContractOrder(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let good = try device.sign(method: "GET", path: Self.path(device), at: test.now)
            var cases: [(RequestSigner.Headers, String)] = []
            var missing = good
            missing.signature = ""
            cases.append((missing, DeviceAuthError.missingHeaders.message))
            var badBase64 = good
            badBase64.nonce = "!!!"
            cases.append((badBase64, DeviceAuthError.invalidBase64.message))
            var shortNonce = good
            shortNonce.nonce = Data(count: 16).base64EncodedString()
            cases.append((shortNonce, DeviceAuthError.nonceLength.message))
            var badTime = good
            badTime.timestamp = "2025-05-09 12:00:00"
            cases.append((badTime, DeviceAuthError.invalidTimestamp.message))
            for (headers, message) in cases {
                let response = try await client.checkRegistration(headers, path: Self.path(device))
                #expect(response.status == .badRequest)
                #expect(response.message == message)
            }
            var fields: HTTPFields = [:]
            for (name, value) in good.fields { fields[HTTPField.Name(name)!] = value }
            fields[HTTPField.Name("X-Device-Signature-Version")!] = "3"
            let version = try await client.execute(uri: Self.path(device), method: .get, headers: fields)
            #expect(version.status == .badRequest && version.message == "Unsupported X-Device-Signature-Version")
        }
    }

    @Test(arguments: TestDatabase.all)
    func uuidHeaderDifferentFromPathIs403(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let other = try await Self.registered(test, client)
            let headers = try other.sign(method: "GET", path: Self.path(device), at: test.now)
            let response = try await client.checkRegistration(headers, path: Self.path(device))
            #expect(response.status == .forbidden && response.message == "X-Device-UUID header does not match path parameter")
        }
    }

    @Test(arguments: TestDatabase.all)
    func unknownDeviceIs404(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            let response = try await client.checkRegistration(try device.sign(method: "GET", path: Self.path(device), at: test.now))
            #expect(response.status == .notFound && response.message == "Device not registered")
        }
    }

    @Test(arguments: TestDatabase.all)
    func signatureByAnotherKeyOrForAnotherPathIs401(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let impostor = SimulatedDevice(uuid: device.uuid)
            let forged = try await client.checkRegistration(try impostor.sign(method: "GET", path: Self.path(device), at: test.now))
            #expect(forged.status == .unauthorized && forged.message == "Signature verification failed")
            let otherPath = try device.sign(method: "GET", path: Self.path(device) + "?x=1", at: test.now)
            #expect(try await client.checkRegistration(otherPath, path: Self.path(device)).status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabase.all)
    func requireSignatureV2RefusesV1(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.requireSignatureV2 = true }) { test, client in
            let device = try await Self.registered(test, client)
            let v1 = try await client.checkRegistration(try device.sign(method: "GET", path: Self.path(device), version: .v1, at: test.now))
            #expect(v1.status == .unauthorized)
            let v2 = try await client.checkRegistration(try device.sign(method: "GET", path: Self.path(device), version: .v2, at: test.now))
            #expect(v2.status == .ok)
        }
    }

    /// The security review's finding 5: v1 headers captured from a boot check were accepted on `DELETE …/backup`.
    @Test(arguments: TestDatabase.all)
    func aDeviceThatSignedV2IsRefusedV1FromThenOn(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let captured = try device.sign(method: "GET", path: Self.path(device), version: .v1, at: test.now)
            #expect(try await client.checkRegistration(try device.sign(method: "GET", path: Self.path(device), at: test.now)).status == .ok)
            // Never used, in the window, correctly signed: refused because the device has signed v2.
            let replay = try await Self.delete(client, backupOf: device, with: captured)
            #expect(replay.status == .unauthorized && replay.message == "Signature version 2 required")
            let again = try await client.checkRegistration(try device.sign(method: "GET", path: Self.path(device), version: .v1, at: test.now))
            #expect(again.status == .unauthorized && again.message == "Signature version 2 required")
        }
    }

    /// A FireFly device (v1 only) keeps working; its used v1 nonce cannot be spent again on another route.
    @Test(arguments: TestDatabase.all)
    func aV1NonceIsClaimedAtFirstSightOnAnyRouteOfTheDevice(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let check = try device.sign(method: "GET", path: Self.path(device), version: .v1, at: test.now)
            #expect(try await client.checkRegistration(check).status == .ok)
            let replay = try await Self.delete(client, backupOf: device, with: check)
            #expect(replay.status == .unauthorized && replay.message == "Nonce already used")
            let own = try device.sign(method: "DELETE", path: BackupRouteTests.path(device), version: .v1, at: test.now)
            #expect(try await Self.delete(client, backupOf: device, with: own).status == .ok, "FireFly firmware deletes with v1")
        }
    }

    static func delete(
        _ client: some TestClientProtocol,
        backupOf device: SimulatedDevice,
        with signed: RequestSigner.Headers
    ) async throws
        -> TestResponse
    {
        var headers = HTTPFields()
        for (name, value) in signed.fields { headers[HTTPField.Name(name)!] = value }
        return try await client.execute(uri: BackupRouteTests.path(device), method: .delete, headers: headers)
    }

    @Test(arguments: TestDatabase.all)
    func authFailuresAreAuditedButThrottled(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            for _ in 0..<5 {
                let impostor = SimulatedDevice(uuid: device.uuid)
                _ = try await client.checkRegistration(try impostor.sign(method: "GET", path: Self.path(device), at: test.now))
            }
            let failures = try await test.store.auditEntries(limit: 100, after: nil).filter { $0.action == "auth.failed" }
            #expect(failures.count == 1)
            #expect(failures.first?.detail == "Signature verification failed")
        }
    }
}
