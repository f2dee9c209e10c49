import Crypto
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import Testing

@testable import EmberCloud

/// Accounts, user tokens, claim tokens and device claims through the router (lifecycle §7), on both databases.
struct AccountTests {
    struct Tenant {
        let account: String
        let token: String
    }

    static func tenant(_ name: String, _ test: TestRegistry, _ client: some TestClientProtocol) async throws -> Tenant {
        let created = try await client.send(.post, "/accounts", token: test.adminToken, json: #"{"name":"\#(name)"}"#)
        #expect(created.status == .created)
        let account = try created.decode(Account.self).id
        let token = try await test.registry.tokens.create(
            name: "user-\(name)",
            role: .user,
            account: account,
            by: AuditActor(actor: "test", client: "local")
        )
        return Tenant(account: account, token: token)
    }

    static func claimToken(_ tenant: Tenant, _ client: some TestClientProtocol) async throws -> String {
        let minted = try await client.send(.post, "/claim-tokens", token: tenant.token)
        #expect(minted.status == .created)
        return try minted.decode(ClaimTokenCreated.self).claimToken
    }

    static func claim(
        _ device: LifecycleRouteTests.Device,
        _ token: String,
        _ test: TestRegistry,
        _ client: some TestClientProtocol
    ) async throws
        -> TestResponse
    {
        try await LifecycleRouteTests.signed(client, test, device, .post, "/devices/\(device.uuid)/claim", json: #"{"claim_token":"\#(token)"}"#)
    }

    @Test(arguments: TestDatabase.all)
    func aUserTokenSeesAndActsOnItsOwnAccountsDevicesOnly(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let alpha = try await Self.tenant("alpha", test, client)
            let beta = try await Self.tenant("beta", test, client)
            let mine = try await LifecycleRouteTests.registered(test, client)
            let unclaimed = try await LifecycleRouteTests.registered(test, client)
            let claimed = try await Self.claim(mine, try await Self.claimToken(alpha, client), test, client)
            let reply = try claimed.decode(ClaimReply.self)
            #expect(claimed.status == .ok && reply.accountID == alpha.account)

            #expect(try await client.get("/devices", token: alpha.token).decode(DevicePage.self).devices.map(\.uuid) == [mine.uuid])
            #expect(try await client.get("/devices", token: beta.token).decode(DevicePage.self).devices.isEmpty)
            let all = try await client.get("/devices", token: test.adminToken).decode(DevicePage.self).devices
            #expect(all.count == 2 && all.first { $0.uuid == mine.uuid }?.ownerAccount == alpha.account)
            #expect(try await client.get("/devices/\(mine.uuid)", token: alpha.token).decode(DeviceRecord.self).ownerAccount == alpha.account)
            let export = try await client.get("/devices/export?format=jsonl", token: alpha.token)
            #expect(String(buffer: export.body).split(separator: "\n").count == 1)

            // Another account's device, or nobody's, is 404 — never data.
            for (token, uuid) in [(beta.token, mine.uuid), (alpha.token, unclaimed.uuid)] {
                #expect(try await client.get("/devices/\(uuid)", token: token).status == .notFound)
                #expect(try await client.get("/devices/\(uuid)/actions", token: token).status == .notFound)
                let action = try await client.send(.post, "/devices/\(uuid)/actions", token: token, json: #"{"type":"backup-now"}"#)
                #expect(action.status == .notFound && !String(buffer: action.body).contains("firmware"))
                #expect(try await client.send(.delete, "/devices/\(uuid)/owner", token: token).status == .notFound)
            }
            let backup = try await client.send(.post, "/devices/\(mine.uuid)/actions", token: alpha.token, json: #"{"type":"backup-now"}"#)
            #expect(backup.status == .created)
            let decommission = try await client.send(
                .post,
                "/devices/\(mine.uuid)/actions",
                token: alpha.token,
                json: #"{"type":"decommission","reason":"x"}"#
            )
            #expect(decommission.status == .forbidden)
            let id = try backup.decode(DeviceAction.self).id
            #expect(try await client.send(.delete, "/devices/\(mine.uuid)/actions/\(id)", token: alpha.token).status == .forbidden)

            // Every other admin route answers 403 to a user token.
            for (method, path) in [
                (HTTPRequest.Method.post, "/registration-keys"), (.get, "/registration-keys"), (.get, "/audit"), (.get, "/onboarding-roots"),
                (.get, "/preregistrations"), (.post, "/accounts"), (.get, "/accounts"),
            ] {
                let response = try await client.send(method, path, token: alpha.token, json: method == .post ? "{}" : nil)
                #expect(response.status == .forbidden, "\(method) \(path)")
            }
            #expect(try await client.send(.post, "/claim-tokens", token: test.operatorToken).status == .forbidden)
            #expect(try await client.send(.post, "/claim-tokens", token: test.adminToken).status == .forbidden)
            #expect(try await client.send(.delete, "/devices/\(mine.uuid)/owner", token: test.operatorToken).status == .forbidden)

            #expect(try await client.send(.delete, "/devices/\(mine.uuid)/owner", token: alpha.token).status == .noContent)
            #expect(try await client.get("/devices", token: alpha.token).decode(DevicePage.self).devices.isEmpty)
            #expect(try await test.store.device(uuid: mine.uuid)?.ownerAccount == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func fiftyRacingClaimsOfOneTokenBindExactlyOneDevice(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.failedAttemptLimit = 1_000 }) { test, client in
            let alpha = try await Self.tenant("alpha", test, client)
            var devices: [LifecycleRouteTests.Device] = []
            for _ in 0..<50 { devices.append(try await LifecycleRouteTests.registered(test, client)) }
            let token = try await Self.claimToken(alpha, client)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for device in devices { group.addTask { try await Self.claim(device, token, test, client).status } }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .unauthorized }.count == 49)
            let owned = try await client.get("/devices", token: alpha.token).decode(DevicePage.self).devices
            #expect(owned.count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func claimsAreSingleUseShortLivedAndRateLimited(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let alpha = try await Self.tenant("alpha", test, client)
            let beta = try await Self.tenant("beta", test, client)
            let device = try await LifecycleRouteTests.registered(test, client)
            let other = try await LifecycleRouteTests.registered(test, client)

            let expiring = try await Self.claimToken(alpha, client)
            test.clock.advance(by: ClaimToken.lifetime + 1)
            let expired = try await Self.claim(device, expiring, test, client)
            #expect(expired.status == .unauthorized && expired.message == "Invalid or expired claim token")
            let token = try await Self.claimToken(alpha, client)
            #expect(try await Self.claim(device, token, test, client).status == .ok)
            #expect(try await Self.claim(device, token, test, client).status == .ok, "a retry by the same device")
            #expect(try await Self.claim(other, token, test, client).status == .unauthorized, "spent")
            #expect(try await Self.claim(device, try await Self.claimToken(alpha, client), test, client).status == .ok, "the same account again")
            let taken = try await Self.claim(device, try await Self.claimToken(beta, client), test, client)
            #expect(taken.status == .conflict && taken.message == "Device already claimed by another account")

            let malformed = try await Self.claim(other, "short", test, client)
            #expect(malformed.status == .badRequest && malformed.message?.hasPrefix("Field claim_token must be 8 characters") == true)
            for _ in 0..<8 { #expect(try await Self.claim(other, "AAAAAAAA", test, client).status == .unauthorized) }
            let limited = try await Self.claim(other, try await Self.claimToken(beta, client), test, client)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil, "11th failure-counted attempt: \(limited.status)")

            _ = try await test.registry.lifecycle.createAction(
                uuid: device.uuid,
                body: Data(#"{"type":"decommission","reason":"retired"}"#.utf8),
                by: AuditActor(actor: "admin", client: "local")
            )
            #expect(try await test.store.device(uuid: device.uuid)?.ownerAccount == nil, "decommissioning releases the device")
        }
    }

    @Test(arguments: TestDatabase.all)
    func badAccountInputIs4xxWithAMessage(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            for (json, message) in [("{}", "Field name is required"), (#"{"name":" x"}"#, nil), (#"{"name":""}"#, nil), ("[", nil)] {
                let response = try await client.send(.post, "/accounts", token: test.adminToken, json: json)
                #expect(response.status == .badRequest && (message == nil || response.message == message), "\(json)")
            }
            #expect(try await client.send(.post, "/accounts", token: test.adminToken, json: #"{"name":"alpha"}"#).status == .created)
            #expect(try await client.send(.post, "/accounts", token: test.adminToken, json: #"{"name":"alpha"}"#).status == .conflict)
            await #expect(throws: RegistryError.self) {
                try await test.registry.tokens.create(name: "u", role: .user, account: "nope", by: AuditActor(actor: "t", client: "l"))
            }
            await #expect(throws: RegistryError.self) {
                try await test.registry.tokens.create(name: "u", role: .user, by: AuditActor(actor: "t", client: "l"))
            }
        }
    }
}

extension TestClientProtocol {
    /// A request with a bearer token and an optional JSON body.
    func send(_ method: HTTPRequest.Method, _ uri: String, token: String, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}
