import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import EmberCloud

/// The admin console over HTTP: sign-in, sessions, CSRF, escaping and roles (the browser tests drive the same pages
/// in Chromium).
struct ConsoleTests {
    /// A signed-in browser: its session cookie and the form token of its pages.
    struct Session {
        var cookie: String
        var csrf: String

        var headers: HTTPFields { [.cookie: "ember_console=\(cookie)"] }
    }

    static func value(of cookie: String, in response: TestResponse) -> String? {
        for field in response.headers[values: .setCookie] where field.hasPrefix(cookie + "=") {
            return String(field.dropFirst(cookie.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    static func hidden(_ name: String, in page: String) -> String? {
        guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    static func form(_ fields: [String: String]) -> ByteBuffer {
        var components = URLComponents()
        components.queryItems = fields.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        // As a browser encodes a form: a literal "+" would read back as a space.
        return ByteBuffer(string: (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B"))
    }

    static let formType: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// Signs in with `token` as a browser does: the form, its cookie, the post.
    static func signIn(_ client: any TestClientProtocol, token: String) async throws -> (TestResponse, Session?) {
        let loginPage = try await client.execute(uri: "/console/login", method: .get)
        let login = try #require(value(of: "ember_console_login", in: loginPage))
        #expect(hidden("login", in: String(buffer: loginPage.body)) == login)
        var headers = formType
        headers[.cookie] = "ember_console_login=\(login)"
        let response = try await client.execute(uri: "/console/login", method: .post, headers: headers, body: form(["login": login, "token": token]))
        guard response.status == .seeOther, let cookie = value(of: "ember_console", in: response) else { return (response, nil) }
        let page = try await client.execute(uri: "/console/devices", method: .get, headers: [.cookie: "ember_console=\(cookie)"])
        return (response, Session(cookie: cookie, csrf: try #require(hidden("csrf", in: String(buffer: page.body)))))
    }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ session: Session, _ fields: [String: String]) async throws -> TestResponse {
        var headers = session.headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await client.execute(uri: uri, method: .post, headers: headers, body: form(fields))
    }

    @Test(arguments: TestDatabase.all)
    func signInSetsAStrictHttpOnlySessionCookieAndPagesCarryTheSecurityHeaders(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let (response, session) = try await Self.signIn(client, token: test.adminToken)
            #expect(response.headers[.location] == "/console")
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("ember_console=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Max-Age=28800"))
            #expect(!cookie.contains("Secure"))
            let page = try await client.execute(uri: "/console", method: .get, headers: try #require(session).headers)
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(String(buffer: page.body).contains("Overview"))
            // The session is stored by its hash only.
            #expect(try await test.store.consoleSession(idHash: try #require(session).cookie, now: test.clock.now()) == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func secureCookiesWhenConfigured(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.secureCookies = true }) { test, client in
            let (response, _) = try await Self.signIn(client, token: test.adminToken)
            #expect(response.headers[values: .setCookie].allSatisfy { $0.contains("Secure") })
        }
    }

    @Test(arguments: TestDatabase.all)
    func aWrongTokenIs401WithAnExplanationAndAStaleFormIs403(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let (wrong, session) = try await Self.signIn(client, token: "ember_" + String(repeating: "0", count: 64))
            #expect(wrong.status == .unauthorized && session == nil)
            #expect(String(buffer: wrong.body).contains("That token is not valid"))
            // No login cookie (a form posted from another site): refused before the token is looked at.
            let stale = try await client.execute(
                uri: "/console/login",
                method: .post,
                headers: Self.formType,
                body: Self.form(["login": "x", "token": test.adminToken])
            )
            #expect(stale.status == .forbidden && Self.value(of: "ember_console", in: stale) == nil)
            // Not a form at all.
            let garbage = try await client.execute(
                uri: "/console/login",
                method: .post,
                headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{}")
            )
            #expect(garbage.status == .forbidden)
        }
    }

    @Test(arguments: TestDatabase.all)
    func elevenWrongTokensAre429EvenForTheRightOne(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            for _ in 0..<10 { _ = try await Self.signIn(client, token: "wrong-token-\(UUID())") }
            let (limited, session) = try await Self.signIn(client, token: test.adminToken)
            #expect(limited.status == .tooManyRequests && session == nil)
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aMissingOrWrongCSRFTokenIs403AndChangesNothing(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let session = try #require(try await Self.signIn(client, token: test.adminToken).1)
            for fields in [[:], ["csrf": "wrong"], ["csrf": ""]] as [[String: String]] {
                #expect(try await Self.post(client, "/console/keys", session, fields).status == .forbidden)
                #expect(
                    try await Self.post(client, "/console/tokens", session, fields.merging(["name": "x", "role": "admin"]) { a, _ in a }).status
                        == .forbidden
                )
            }
            #expect(try await test.registry.keys.active(owner: "admin").isEmpty)
            #expect(try await test.registry.tokens.all().map(\.name).sorted() == ["admin", "operator"])
            // With the session's token the same post works.
            #expect(try await Self.post(client, "/console/keys", session, ["csrf": session.csrf]).status == .created)
            #expect(try await test.registry.keys.active(owner: "admin").count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aBatchOfKeysIsMintedFromTheKeysPage(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let session = try #require(try await Self.signIn(client, token: test.operatorToken).1)
            let page = String(buffer: try await client.execute(uri: "/console/keys", method: .get, headers: session.headers).body)
            #expect(page.contains(#"id="mint-count""#))
            let minted = try await Self.post(client, "/console/keys", session, ["csrf": session.csrf, "count": "25"])
            #expect(minted.status == .created)
            let html = String(buffer: minted.body)
            let keys = try #require(html.firstRange(of: #"readonly rows="12" cols="10" spellcheck="false">"#).map { html[$0.upperBound...] })
                .prefix { $0 != "<" }.split(separator: "\n")
            #expect(keys.count == 25 && html.contains("25 registration keys minted"), "\(html)")
            let active = try await test.registry.keys.active(owner: "operator").map(\.key)
            #expect(Set(active) == Set(keys.map(String.init)))
            for bad in ["0", "1001", "many"] {
                let refused = try await Self.post(client, "/console/keys", session, ["csrf": session.csrf, "count": bad])
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(String(buffer: refused.body).contains("Field count must be 1 to 1000"), "\(bad)")
            }
            #expect(try await test.registry.keys.active(owner: "operator").count == 25, "a refused batch mints nothing")
        }
    }

    @Test(arguments: TestDatabase.all)
    func aSessionAfterSignOutOrRevocationGoesBackToSignIn(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let admin = try #require(try await Self.signIn(client, token: test.adminToken).1)
            let out = try await Self.post(client, "/console/logout", admin, ["csrf": admin.csrf])
            #expect(out.status == .seeOther && out.headers[.location] == "/console/login")
            let after = try await client.execute(uri: "/console/devices", method: .get, headers: admin.headers)
            #expect(after.status == .seeOther && after.headers[.location] == "/console/login")

            let op = try #require(try await Self.signIn(client, token: test.operatorToken).1)
            #expect(try await client.execute(uri: "/console", method: .get, headers: op.headers).status == .ok)
            _ = try await test.registry.tokens.revoke(name: "operator", by: AuditActor(actor: "admin", client: "test"))
            let revoked = try await client.execute(uri: "/console", method: .get, headers: op.headers)
            #expect(revoked.status == .seeOther && revoked.headers[.location] == "/console/login")

            let expired = try #require(try await Self.signIn(client, token: test.adminToken).1)
            test.clock.advance(by: 8 * 3600)
            #expect(try await client.execute(uri: "/console", method: .get, headers: expired.headers).status == .seeOther)
            #expect(try await client.execute(uri: "/console", method: .get, headers: [.cookie: "ember_console=forged"]).status == .seeOther)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aScriptTagInADeviceFieldIsRenderedAsText(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            var body = try device.registrationJSON()
            var mcu = body["mcu"] as? [String: Any] ?? [:]
            mcu["model"] = "<script>alert('mcu')</script>"
            body["mcu"] = mcu
            body["registering_version"] = "\"><img src=x onerror=alert(1)>"
            let key = try await client.mintKey(test.adminToken)
            #expect(try await client.register(try JSONSerialization.data(withJSONObject: body), key: key).status == .noContent)
            let session = try #require(try await Self.signIn(client, token: test.adminToken).1)
            let uuid = DeviceUUID.format(device.uuid)
            for uri in ["/console/devices/\(uuid)", "/console/devices", "/console/audit", "/console"] {
                let page = String(buffer: try await client.execute(uri: uri, method: .get, headers: session.headers).body)
                #expect(!page.contains("<script>alert") && !page.contains("<img src=x"), "unescaped markup on \(uri)")
            }
            let detail = String(buffer: try await client.execute(uri: "/console/devices/\(uuid)", method: .get, headers: session.headers).body)
            #expect(detail.contains("&lt;script&gt;alert(&#39;mcu&#39;)&lt;/script&gt;") || detail.contains("&lt;script&gt;alert("))
        }
    }

    @Test(arguments: TestDatabase.all)
    func anOperatorSessionCannotReachTokenManagementOrTheAudit(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let session = try #require(try await Self.signIn(client, token: test.operatorToken).1)
            let overview = String(buffer: try await client.execute(uri: "/console", method: .get, headers: session.headers).body)
            #expect(!overview.contains("/console/tokens") && !overview.contains("/console/audit"))
            for uri in ["/console/tokens", "/console/audit"] {
                #expect(try await client.execute(uri: uri, method: .get, headers: session.headers).status == .forbidden)
            }
            let create = try await Self.post(client, "/console/tokens", session, ["csrf": session.csrf, "name": "sneaky", "role": "admin"])
            #expect(create.status == .forbidden)
            let revoke = try await Self.post(client, "/console/tokens/revoke", session, ["csrf": session.csrf, "name": "admin"])
            #expect(revoke.status == .forbidden)
            #expect(try await test.registry.tokens.all().allSatisfy { $0.revokedAt == nil && $0.name != "sneaky" })
        }
    }

    @Test(arguments: TestDatabase.all)
    func devicePagesQueueActionsAndDecommissionNeedsTheUUIDTypedAgain(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = SimulatedDevice()
            #expect(try await client.register(device, key: try await client.mintKey(test.adminToken)).status == .noContent)
            let uuid = DeviceUUID.format(device.uuid)
            let session = try #require(try await Self.signIn(client, token: test.adminToken).1)
            let list = String(
                buffer: try await client.execute(uri: "/console/devices?q=\(uuid.prefix(6))", method: .get, headers: session.headers).body
            )
            #expect(list.contains("/console/devices/\(uuid)"))
            let bad = try await client.execute(uri: "/console/devices?state=lost", method: .get, headers: session.headers)
            #expect(bad.status == .badRequest && String(buffer: bad.body).contains("state must be registered or decommissioned"))

            let rotate = try await Self.post(client, "/console/devices/\(uuid)/actions", session, ["csrf": session.csrf, "type": "rotate-key"])
            #expect(rotate.status == .seeOther && rotate.headers[.location] == "/console/devices/\(uuid)?queued=rotate-key")
            let mistyped = ["csrf": session.csrf, "type": "decommission", "reason": "scrap", "confirm_uuid": String(uuid.dropLast())]
            let refused = try await Self.post(client, "/console/devices/\(uuid)/actions", session, mistyped)
            #expect(refused.status == .badRequest && String(buffer: refused.body).contains("does not match"))
            let unknown = try await Self.post(client, "/console/devices/\(uuid)/actions", session, ["csrf": session.csrf, "type": "explode"])
            #expect(unknown.status == .badRequest)
            let actions = try await test.registry.lifecycle.actions(uuid: uuid)
            #expect(actions.map(\.type) == [.rotateKey])

            let typed = ["csrf": session.csrf, "type": "decommission", "reason": "scrap", "confirm_uuid": uuid.uppercased()]
            #expect(try await Self.post(client, "/console/devices/\(uuid)/actions", session, typed).status == .seeOther)
            #expect(Set(try await test.registry.lifecycle.actions(uuid: uuid).map(\.type)) == [.rotateKey, .decommission])
            let export = try await client.execute(uri: "/console/devices/export", method: .get, headers: session.headers)
            #expect(export.status == .ok && String(buffer: export.body).contains(uuid))
            let missing = try await client.execute(uri: "/console/devices/\(UUID().uuidString.lowercased())", method: .get, headers: session.headers)
            #expect(missing.status == .notFound && missing.headers[.contentType]?.hasPrefix("text/html") == true)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theAuditFiltersByActionAndActorOnTheAPIAndTheConsole(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            _ = try await client.mintKey(test.adminToken)
            _ = try await client.mintKey(test.operatorToken)
            let page = try await client.get("/audit?action=key.minted&actor=operator", token: test.adminToken)
            let entries = try page.decode(AuditPage.self).entries
            #expect(entries.count == 1 && entries[0].actor == "operator" && entries[0].action == "key.minted")
            #expect(try await client.get("/audit?action=", token: test.adminToken).status == .badRequest)
            let session = try #require(try await Self.signIn(client, token: test.adminToken).1)
            let html = String(buffer: try await client.execute(uri: "/console/audit?action=key.minted", method: .get, headers: session.headers).body)
            #expect(html.contains("key.minted") && !html.contains("<td>token.created</td>"))
        }
    }
}
