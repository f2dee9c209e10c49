import EmberCloud
import EmberCore
import EmberFleet
import EmberPKI
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The console's zero-touch page: admins trust roots, operators pre-register, and an enrolled board shows up.
struct ConsoleOnboardingTests {
    @Test(arguments: TestDatabase.all)
    func adminsTrustRootsOperatorsPreregisterAndEnrolledBoardsShow(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let factory = try TestFactory(now: test.clock.now())
            let admin = try #require(try await ConsoleTests.signIn(client, token: test.adminToken).1)
            let added = try await ConsoleTests.post(
                client,
                "/console/onboarding/roots",
                admin,
                ["csrf": admin.csrf, "pem": factory.root.certificatePEM]
            )
            #expect(added.status == .seeOther)
            let page = String(buffer: try await client.execute(uri: "/console/onboarding", method: .get, headers: admin.headers).body)
            #expect(page.contains(factory.root.fingerprint) && page.contains("CN=Test onboarding root"))

            let op = try #require(try await ConsoleTests.signIn(client, token: test.operatorToken).1)
            let refused = try await ConsoleTests.post(client, "/console/onboarding/roots", op, ["csrf": op.csrf, "pem": factory.line.certificatePEM])
            #expect(refused.status == .forbidden)
            let opPage = String(buffer: try await client.execute(uri: "/console/onboarding", method: .get, headers: op.headers).body)
            #expect(!opPage.contains("Trusted onboarding roots") && !opPage.contains(factory.root.fingerprint))
            let noCSRF = try await ConsoleTests.post(client, "/console/onboarding/preregistrations", op, ["serial": "SN-1"])
            #expect(noCSRF.status == .forbidden)
            let fields = ["csrf": op.csrf, "serial": "SN-1", "product_hex": "", "region": "eu-west", "fleet_id": ""]
            #expect(try await ConsoleTests.post(client, "/console/onboarding/preregistrations", op, fields).status == .seeOther)
            let duplicate = try await ConsoleTests.post(client, "/console/onboarding/preregistrations", op, fields)
            #expect(duplicate.status == .conflict && String(buffer: duplicate.body).contains("Serial SN-1 is already pre-registered"))
            let bad = try await ConsoleTests.post(client, "/console/onboarding/preregistrations", op, ["csrf": op.csrf, "serial": "<script>"])
            #expect(bad.status == .badRequest && !String(buffer: bad.body).contains("<script>"))

            let board = try factory.board(serial: "SN-1")
            #expect(try await client.enroll(board, at: test.now).0.status == .created)
            let listed = String(buffer: try await client.execute(uri: "/console/onboarding", method: .get, headers: op.headers).body)
            #expect(listed.contains("/console/devices/\(DeviceUUID.format(board.device.uuid))"))
            let removed = try await ConsoleTests.post(client, "/console/onboarding/preregistrations/remove", op, ["csrf": op.csrf, "name": "SN-1"])
            #expect(removed.status == .seeOther)
            #expect(try await test.store.preregistrations(limit: 10, after: nil).isEmpty)
            let removeRoot = try await ConsoleTests.post(
                client,
                "/console/onboarding/roots/remove",
                admin,
                ["csrf": admin.csrf, "name": factory.root.fingerprint]
            )
            let roots = try await test.store.onboardingRoots()
            #expect(removeRoot.status == .seeOther && roots.isEmpty)
        }
    }
}
