import EmberCloud
import EmberCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import EmberCloud

/// The console for a `user` token: its account's devices only, the actions it may queue, claim tokens.
struct ConsoleAccountTests {
    @Test(arguments: TestDatabase.all)
    func aUserSessionSeesItsDevicesAndMintsClaimTokens(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let alpha = try await AccountTests.tenant("alpha", test, client)
            let mine = try await LifecycleRouteTests.registered(test, client)
            let other = try await LifecycleRouteTests.registered(test, client)
            #expect(try await AccountTests.claim(mine, try await AccountTests.claimToken(alpha, client), test, client).status == .ok)

            let session = try #require(try await ConsoleTests.signIn(client, token: alpha.token).1)
            let overview = try await client.execute(uri: "/console", method: .get, headers: session.headers)
            #expect(overview.status == .seeOther && overview.headers[.location] == "/console/devices")
            let list = String(buffer: try await client.execute(uri: "/console/devices", method: .get, headers: session.headers).body)
            #expect(list.contains(mine.uuid) && !list.contains(other.uuid))
            #expect(list.contains("/console/claim-tokens") && !list.contains("/console/keys") && !list.contains("/console/tokens"))
            #expect(try await client.execute(uri: "/console/devices/\(other.uuid)", method: .get, headers: session.headers).status == .notFound)
            let page = String(buffer: try await client.execute(uri: "/console/devices/\(mine.uuid)", method: .get, headers: session.headers).body)
            #expect(page.contains("action-backup-now") && page.contains("action-factory-reset") && !page.contains("action-rotate-key"))
            #expect(!page.contains("confirm-uuid") && page.contains(alpha.account))
            let rotate = try await ConsoleTests.post(
                client,
                "/console/devices/\(mine.uuid)/actions",
                session,
                ["csrf": session.csrf, "type": "rotate-key"]
            )
            #expect(rotate.status == .forbidden)
            let backup = try await ConsoleTests.post(
                client,
                "/console/devices/\(mine.uuid)/actions",
                session,
                ["csrf": session.csrf, "type": "backup-now"]
            )
            #expect(backup.status == .seeOther)
            #expect(try await client.execute(uri: "/console/keys", method: .get, headers: session.headers).status == .forbidden)

            let minted = try await ConsoleTests.post(client, "/console/claim-tokens", session, ["csrf": session.csrf])
            #expect(minted.status == .created)
            let token = try #require(
                String(buffer: minted.body).range(of: #"id="claim-token">"#).map { String(String(buffer: minted.body)[$0.upperBound...].prefix(8)) }
            )
            #expect(try await AccountTests.claim(other, token, test, client).status == .ok, "the console's token claims a device")
            #expect(try await ConsoleTests.post(client, "/console/claim-tokens", session, [:]).status == .forbidden, "no CSRF token")

            let operatorSession = try #require(try await ConsoleTests.signIn(client, token: test.operatorToken).1)
            #expect(try await client.execute(uri: "/console/claim-tokens", method: .get, headers: operatorSession.headers).status == .forbidden)
        }
    }
}
