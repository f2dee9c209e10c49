import Crypto
import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import Testing

/// Check-in, actions, decommissioning and key rotation through the router, on both databases.
struct LifecycleRouteTests {
    /// A registered device and the key it signs with now.
    struct Device {
        let simulated: SimulatedDevice
        var key: P256.Signing.PrivateKey
        var uuid: String { DeviceUUID.format(simulated.uuid) }
    }

    static func registered(_ test: TestRegistry, _ client: some TestClientProtocol) async throws -> Device {
        let device = try await SignedRequestRouteTests.registered(test, client)
        return Device(simulated: device, key: try device.master.signingKey())
    }

    /// A device-signed request with `key` (v2 unless told).
    static func signed(
        _ client: some TestClientProtocol,
        _ test: TestRegistry,
        _ device: Device,
        _ method: HTTPRequest.Method,
        _ path: String,
        json: String? = nil,
        key: P256.Signing.PrivateKey? = nil,
        version: SignatureVersion = .v2,
        nonce: Data? = nil
    ) async throws -> TestResponse {
        let body = Data((json ?? "").utf8)
        let headers = try RequestSigner.sign(
            key: key ?? device.key,
            uuid: device.simulated.uuid,
            version: version,
            method: method.rawValue,
            path: path,
            body: body,
            at: test.now,
            nonce: nonce
        )
        var fields: HTTPFields = [:]
        for (name, value) in headers.fields { fields[HTTPField.Name(name)!] = value }
        if json != nil { fields[.contentType] = "application/json" }
        return try await client.execute(uri: path, method: method, headers: fields, body: ByteBuffer(data: body))
    }

    static func admin(
        _ client: some TestClientProtocol,
        _ token: String,
        _ method: HTTPRequest.Method,
        _ path: String,
        json: String? = nil
    ) async throws -> TestResponse {
        var fields: HTTPFields = [.authorization: "Bearer \(token)"]
        if json != nil { fields[.contentType] = "application/json" }
        return try await client.execute(uri: path, method: method, headers: fields, body: ByteBuffer(string: json ?? ""))
    }

    static func checkIn(
        _ client: some TestClientProtocol,
        _ test: TestRegistry,
        _ device: Device,
        key: P256.Signing.PrivateKey? = nil
    )
        async throws -> CheckInReply
    {
        let response = try await signed(
            client,
            test,
            device,
            .post,
            "/devices/\(device.uuid)/check-in",
            json: #"{"firmware_version":"1.2.3"}"#,
            key: key
        )
        #expect(response.status == .ok, "\(response.message ?? "")")
        return try response.decode(CheckInReply.self)
    }

    @Test(arguments: TestDatabase.all)
    func checkInRecordsTheReportAndNeedsV2(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.checkInInterval = 10 }) { test, client in
            let device = try await Self.registered(test, client)
            let v1 = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/check-in", version: .v1)
            #expect(v1.status == .unauthorized && v1.message == "Signature version 2 required")
            let empty = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/check-in")
            #expect(empty.status == .ok)
            let reply = try await Self.checkIn(client, test, device)
            #expect(reply.actions.isEmpty && reply.checkInIntervalS == 10)
            let shown = try await Self.admin(client, test.operatorToken, .get, "/devices/\(device.uuid)").decode(DeviceRecord.self)
            #expect(shown.lastCheckIn?.at == test.clock.now() && shown.lastCheckIn?.report.firmwareVersion == "1.2.3")
            #expect(shown.state == "registered" && shown.keyEpoch == 0 && shown.keys?.map(\.state) == [.active])
            // Written in a batch, then read from the database.
            try await test.registry.flushCheckIns()
            #expect(try await test.store.device(uuid: device.uuid)?.lastCheckIn?.report.firmwareVersion == "1.2.3")
            let bad = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/check-in", json: #"{"uptime_s":-1}"#)
            #expect(bad.status == .badRequest && bad.message == "uptime_s must not be negative")
            let notJSON = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/check-in", json: "{")
            #expect(notJSON.status == .badRequest)
        }
    }

    @Test(arguments: TestDatabase.all)
    func actionsAreDeliveredUntilFinishedAndCancellableWhilePending(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let actions = "/devices/\(device.uuid)/actions"
            let badType = try await Self.admin(client, test.adminToken, .post, actions, json: #"{"type":"explode"}"#)
            #expect(badType.status == .badRequest && badType.message == ActionType.invalidMessage)
            #expect(ActionType.invalidMessage == "type must be one of decommission, rotate-key, factory-reset, configure, backup-now")
            let noConfig = try await Self.admin(client, test.adminToken, .post, actions, json: #"{"type":"configure"}"#)
            #expect(noConfig.status == .badRequest)
            let unknown = try await Self.admin(
                client,
                test.adminToken,
                .post,
                "/devices/\(UUID().uuidString)/actions",
                json: #"{"type":"backup-now"}"#
            )
            #expect(unknown.status == .notFound)
            let byOperator = try await Self.admin(client, test.operatorToken, .post, actions, json: #"{"type":"backup-now"}"#)
            #expect(byOperator.status == .forbidden)

            let first = try await Self.admin(client, test.adminToken, .post, actions, json: #"{"type":"backup-now","reason":"test"}"#)
            #expect(first.status == .created)
            let backup = try first.decode(DeviceAction.self)
            #expect(backup.state == .pending && backup.createdBy == "admin" && backup.type == .backupNow)
            let second = try await Self.admin(client, test.adminToken, .post, actions, json: #"{"type":"rotate-key"}"#).decode(DeviceAction.self)
            #expect(try await Self.admin(client, test.adminToken, .delete, "\(actions)/\(second.id)").status == .noContent)

            let delivered = try await Self.checkIn(client, test, device)
            #expect(delivered.actions.map(\.id) == [backup.id], "the cancelled action is not delivered")
            let late = try await Self.admin(client, test.adminToken, .delete, "\(actions)/\(backup.id)")
            #expect(late.status == .conflict && late.message == "Action already delivered")
            // A device that crashed gets it again.
            #expect(try await Self.checkIn(client, test, device).actions.map(\.id) == [backup.id])

            let result = "\(actions)/\(backup.id)/result"
            #expect(try await Self.signed(client, test, device, .post, result, json: #"{"status":"done","detail":"ok"}"#).status == .noContent)
            #expect(try await Self.signed(client, test, device, .post, result, json: #"{"status":"done","detail":"ok"}"#).status == .noContent)
            let other = try await Self.signed(client, test, device, .post, result, json: #"{"status":"failed","detail":"no"}"#)
            #expect(other.status == .conflict && other.message == "Action already completed")
            let missing = try await Self.signed(client, test, device, .post, "\(actions)/999999/result", json: #"{"status":"done"}"#)
            #expect(missing.status == .notFound && missing.message == "Action not found")
            let badStatus = try await Self.signed(client, test, device, .post, result, json: #"{"status":"maybe"}"#)
            #expect(badStatus.status == .badRequest && badStatus.message == "status must be done or failed")
            #expect(try await Self.checkIn(client, test, device).actions.isEmpty)

            let list = try await Self.admin(client, test.operatorToken, .get, actions).decode(ActionList.self).actions
            #expect(list.map(\.state) == [.cancelled, .done])
            #expect(list.last?.deliveredAt != nil && list.last?.completedAt != nil && list.last?.detail == "ok")
            let audit = try await test.store.auditEntries(limit: 100, after: nil).map(\.action)
            #expect(audit.contains("action.created") && audit.contains("action.cancelled") && audit.contains("action.done"))
        }
    }

    @Test(arguments: TestDatabase.all)
    func decommissionLocksTheDeviceOutAtOnce(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let backupBlob = try FFCEContainer.seal(Data("{}".utf8), using: SymmetricKey(size: .bits256))
            _ = try await test.store.storeBackup(uuid: device.uuid, blob: backupBlob, etag: "", ifNoneMatch: nil, now: test.clock.now())
            let actions = "/devices/\(device.uuid)/actions"
            let pending = try await Self.admin(client, test.adminToken, .post, actions, json: #"{"type":"backup-now"}"#).decode(DeviceAction.self)
            let decommission = try await Self.admin(client, test.adminToken, .post, actions, json: #"{"type":"decommission","reason":"stolen"}"#)
            #expect(decommission.status == .created)
            let action = try decommission.decode(DeviceAction.self)

            #expect(try await test.store.backupInfo(uuid: device.uuid) == nil, "the cloud backup is deleted at once")
            let gone = try await Self.signed(client, test, device, .get, "/devices/\(device.uuid)/backup")
            #expect(gone.status == .gone && gone.message == "Device decommissioned")
            let registration = try await Self.signed(client, test, device, .get, "/devices/\(device.uuid)/registration")
            #expect(registration.status == .gone)
            let keys = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/keys", json: "{}")
            #expect(keys.status == .gone)
            #expect(try await Self.checkIn(client, test, device).actions.map(\.id) == [action.id], "only the decommission action")
            let again = try await Self.admin(client, test.adminToken, .post, actions, json: #"{"type":"backup-now"}"#)
            #expect(again.status == .gone && again.message == "Device decommissioned")

            let notice = #"{"reason":"remote","action_id":\#(action.id),"events":[{"time":1,"level":"notify","text":"Decommissioning"}]}"#
            let acknowledged = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/decommission", json: notice)
            #expect(acknowledged.status == .ok)
            let at = try acknowledged.decode(DecommissionAcknowledged.self).decommissionedAt
            test.clock.advance(by: 5)
            let repeated = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/decommission", json: notice)
            #expect(try repeated.decode(DecommissionAcknowledged.self).decommissionedAt == at, "idempotent")
            #expect(try await Self.checkIn(client, test, device).actions.isEmpty, "the notice completed the action")

            let list = try await Self.admin(client, test.adminToken, .get, actions).decode(ActionList.self).actions
            #expect(list.first { $0.id == pending.id }?.state == .cancelled && list.first { $0.id == action.id }?.state == .done)
            let key = try await client.mintKey(test.adminToken)
            let reregister = try await client.register(device.simulated, key: key)
            #expect(reregister.status == .conflict && reregister.message == "Device decommissioned")
            let page = try await Self.admin(client, test.operatorToken, .get, "/devices?state=decommissioned").decode(DevicePage.self)
            #expect(page.devices.map(\.uuid) == [device.uuid] && page.devices.first?.state == "decommissioned")
            #expect(try await Self.admin(client, test.operatorToken, .get, "/devices?state=registered").decode(DevicePage.self).devices.isEmpty)
            #expect(try await Self.admin(client, test.operatorToken, .get, "/devices?state=lost").status == .badRequest)
            let audit = try await test.store.auditEntries(limit: 100, after: nil)
            #expect(audit.contains { $0.action == "device.decommission_notice" && $0.detail.contains("Decommissioning") })
            #expect(audit.contains { $0.action == "backup.deleted" } && audit.contains { $0.action == "device.decommissioned" })
        }
    }

    @Test(arguments: TestDatabase.all)
    func aLocalDecommissionNoticeDecommissions(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let bad = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/decommission", json: #"{"reason":"bored"}"#)
            #expect(bad.status == .badRequest && bad.message == "reason must be local or remote")
            let v1 = try await Self.signed(
                client,
                test,
                device,
                .post,
                "/devices/\(device.uuid)/decommission",
                json: #"{"reason":"local"}"#,
                version: .v1
            )
            #expect(v1.status == .unauthorized && v1.message == "Signature version 2 required")
            let notice = try await Self.signed(client, test, device, .post, "/devices/\(device.uuid)/decommission", json: #"{"reason":"local"}"#)
            #expect(notice.status == .ok)
            #expect(try await test.store.device(uuid: device.uuid)?.decommissionedAt == test.clock.now())
            #expect(try await Self.signed(client, test, device, .get, "/devices/\(device.uuid)/registration").status == .gone)
        }
    }

    /// Submits `key` for `epoch`, signed with the device's current key; the proof by `prover` (default: the new key).
    static func submit(
        _ client: some TestClientProtocol,
        _ test: TestRegistry,
        _ device: Device,
        epoch: Int,
        key: P256.Signing.PrivateKey,
        prover: P256.Signing.PrivateKey? = nil,
        nonce: Data = Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    ) async throws -> TestResponse {
        let proof = try KeyProof.sign(key: prover ?? key, uuid: device.simulated.uuid, epoch: epoch, nonce: nonce.base64EncodedString())
        let body = try JSONEncoder().encode(KeySubmission(epoch: epoch, publicKey: DevicePublicKey(key.publicKey).base64, proof: proof))
        return try await signed(
            client,
            test,
            device,
            .post,
            "/devices/\(device.uuid)/keys",
            json: String(decoding: body, as: UTF8.self),
            nonce: nonce
        )
    }

    @Test(arguments: TestDatabase.all)
    func rotationKeepsBothKeysUntilTheNewOneIsUsed(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            var device = try await Self.registered(test, client)
            let old = device.key
            let new = P256.Signing.PrivateKey()
            let other = P256.Signing.PrivateKey()

            let forged = try await Self.submit(client, test, device, epoch: 1, key: new, prover: other)
            #expect(forged.status == .badRequest && forged.message == "Key proof verification failed")
            let wrongEpoch = try await Self.submit(client, test, device, epoch: 2, key: new)
            #expect(wrongEpoch.status == .conflict && wrongEpoch.message == "Key epoch must be 1")
            let nonce = Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
            #expect(try await Self.submit(client, test, device, epoch: 1, key: other, nonce: nonce).status == .created)
            let replay = try await Self.submit(client, test, device, epoch: 1, key: other, nonce: nonce)
            #expect(replay.status == .unauthorized && replay.message == "Nonce already used")
            let replaced = try await Self.submit(client, test, device, epoch: 1, key: new)
            #expect(replaced.status == .created, "a new key for the pending epoch replaces it")
            let same = try await Self.submit(client, test, device, epoch: 1, key: new)
            #expect(same.status == .ok)
            #expect(try same.decode(KeyAccepted.self) == KeyAccepted(epoch: 1, state: .pending))
            let badKey = try await Self.signed(
                client,
                test,
                device,
                .post,
                "/devices/\(device.uuid)/keys",
                json: #"{"epoch":1,"public_key":"AAAA","proof":"AAAA"}"#
            )
            #expect(badKey.status == .badRequest && badKey.message == WireError.invalidPublicKey.message)

            // Both verify before promotion; the replaced pending key does not.
            let path = "/devices/\(device.uuid)/registration"
            #expect(try await Self.signed(client, test, device, .get, path, key: old).status == .ok)
            #expect(try await Self.signed(client, test, device, .get, path, key: other).status == .unauthorized)
            #expect(try await Self.signed(client, test, device, .get, path, key: new).status == .ok, "the first use promotes")
            let stale = try await Self.signed(client, test, device, .get, path, key: old)
            #expect(stale.status == .unauthorized && stale.message == "Signature verification failed")
            device.key = new
            let shown = try await Self.admin(client, test.operatorToken, .get, "/devices/\(device.uuid)").decode(DeviceRecord.self)
            #expect(shown.keyEpoch == 1 && shown.keys?.map(\.state) == [.retired, .active])
            #expect(shown.publicKey == (try device.simulated.master.publicKey().base64), "public_key stays the epoch-0 key")

            // Registration idempotency compares with epoch 0 and never reactivates the retired key.
            let again = try await client.register(device.simulated, key: try await client.mintKey(test.adminToken))
            #expect(again.status == .noContent)
            #expect(try await Self.signed(client, test, device, .get, path, key: old).status == .unauthorized)
            #expect(try await Self.submit(client, test, device, epoch: 1, key: P256.Signing.PrivateKey()).message == "Key epoch must be 2")
            let audit = try await test.store.auditEntries(limit: 100, after: nil).map(\.action)
            #expect(audit.contains("key.submitted") && audit.contains("key.activated"))
        }
    }

    @Test(arguments: TestDatabase.all)
    func aRetiredKeyFailsOnASecondInstanceToo(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await Self.registered(test, client)
            let new = P256.Signing.PrivateKey()
            #expect(try await Self.submit(client, test, device, epoch: 1, key: new).status == .created)
            // A second registry on the same database: it reads keys from the database, with its own key cache.
            let second = Registry(configuration: RegistryConfiguration(), store: test.store, clock: test.clock)
            let secondApp = Application(router: second.buildRouter(), logger: TestRegistry.logger)
            try await secondApp.test(.router) { (other: any TestClientProtocol) async throws in
                let path = "/devices/\(device.uuid)/registration"
                #expect(try await Self.signed(other, test, device, .get, path).status == .ok, "warms the second instance's cache")
                #expect(try await Self.signed(client, test, device, .get, path, key: new).status == .ok)
                #expect(try await Self.signed(other, test, device, .get, path).status == .unauthorized, "retired everywhere")
            }
        }
    }
}
