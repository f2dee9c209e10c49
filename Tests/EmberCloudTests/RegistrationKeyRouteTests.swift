import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing

@testable import EmberCloud

/// `/registration-keys`: mint, list, revoke, and admin authentication.
struct RegistrationKeyRouteTests {
    @Test(arguments: TestDatabase.all)
    func mintReturns201WithASixCharacterKeyAndExpiry(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let response = try await client.execute(uri: "/registration-keys", method: .post, headers: [.authorization: "Bearer \(test.adminToken)"])
            #expect(response.status == .created)
            let created = try response.decode(RegistrationKeyCreated.self)
            #expect(created.key.count == 6 && created.key.utf8.allSatisfy { RegistrationKey.alphabet.contains($0) })
            #expect(created.expiresAt == test.clock.now() + 1_800)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aThousandKeysAreMintedInOneRequestWithOneAuditRow(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let headers: HTTPFields = [.authorization: "Bearer \(test.operatorToken)", .contentType: "application/json"]
            let response = try await client.execute(
                uri: "/registration-keys",
                method: .post,
                headers: headers,
                body: ByteBuffer(string: #"{"count":1000}"#)
            )
            #expect(response.status == .created)
            let created = try response.decode(RegistrationKeysCreated.self)
            #expect(created.keys.count == 1_000 && Set(created.keys).count == 1_000, "distinct keys")
            #expect(created.expiresAt == test.clock.now() + 1_800)
            #expect(created.keys.allSatisfy { $0.count == 6 && $0.utf8.allSatisfy { RegistrationKey.alphabet.contains($0) } })
            let listed = try await client.get("/registration-keys", token: test.operatorToken).decode(RegistrationKeyList.self)
            #expect(Set(listed.registrationKeys.map(\.key)) == Set(created.keys), "each one stored, sealed, for its minter")
            #expect(try await client.register(SimulatedDevice(), key: created.keys[0]).status == .noContent)
            #expect(try await client.register(SimulatedDevice(), key: created.keys[0]).status == .unauthorized, "single use")
            #expect(try await client.register(SimulatedDevice(), key: created.keys[999]).status == .noContent)
            let audit = try await test.store.auditEntries(AuditQuery(limit: 10, action: "key.minted"))
            #expect(audit.count == 1 && audit[0].subject == "1000 keys", "\(audit)")

            let bad: [(String, String?, HTTPResponse.Status, String)] = [
                (#"{"count":0}"#, "application/json", .badRequest, "Field count must be 1 to 1000"),
                (#"{"count":1001}"#, "application/json", .badRequest, "Field count must be 1 to 1000"),
                (#"{"count":"ten"}"#, "application/json", .badRequest, ""),
                (#"{}"#, "application/json", .badRequest, "Field count is required: how many keys to mint (1 to 1000)"),
                (#"{"count":"#, "application/json", .badRequest, ""),
                (#"count=5"#, "application/x-www-form-urlencoded", .unsupportedMediaType, "Content-Type must be application/json"),
            ]
            for (body, type, status, message) in bad {
                var fields: HTTPFields = [.authorization: "Bearer \(test.operatorToken)"]
                if let type { fields[.contentType] = type }
                let refused = try await client.execute(uri: "/registration-keys", method: .post, headers: fields, body: ByteBuffer(string: body))
                #expect(refused.status == status, "\(body)")
                if !message.isEmpty { #expect(refused.message == message, "\(body): \(refused.message ?? "")") }
            }
            let after = try await client.get("/registration-keys", token: test.operatorToken).decode(RegistrationKeyList.self)
            #expect(after.registrationKeys.count == 998, "a refused request mints nothing")
        }
    }

    @Test(arguments: TestDatabase.all)
    func ttlIsConfigurable(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.registrationKeyTTL = 60 }) { test, client in
            let response = try await client.execute(
                uri: "/registration-keys",
                method: .post,
                headers: [.authorization: "Bearer \(test.operatorToken)"]
            )
            #expect(try response.decode(RegistrationKeyCreated.self).expiresAt == test.clock.now() + 60)
        }
    }

    @Test(arguments: TestDatabase.all)
    func listShowsTheCallersActiveKeysOldestFirst(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let first = try await client.mintKey(test.adminToken)
            test.clock.advance(by: 5)
            let second = try await client.mintKey(test.adminToken)
            let spent = try await client.mintKey(test.adminToken)
            _ = try await client.mintKey(test.operatorToken)  // someone else's
            #expect(try await client.register(SimulatedDevice(), key: spent).status == .noContent)
            let response = try await client.get("/registration-keys", token: test.adminToken)
            #expect(response.status == .ok)
            let keys = try response.decode(RegistrationKeyList.self).registrationKeys
            #expect(keys.map(\.key) == [first, second])
            #expect(keys[0].generatedAt == test.clock.now() - 5)
            test.clock.advance(by: 1_800 - 5)  // the first expires now, the second 5 s later
            let later = try await client.get("/registration-keys", token: test.adminToken).decode(RegistrationKeyList.self)
            #expect(later.registrationKeys.map(\.key) == [second])
        }
    }

    @Test(arguments: TestDatabase.all)
    func revokeRemovesTheKeyAndIs404ForOthersKeys(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let key = try await client.mintKey(test.adminToken)
            let others = try await client.mintKey(test.operatorToken)
            let auth: HTTPFields = [.authorization: "Bearer \(test.adminToken)"]
            #expect(try await client.execute(uri: "/registration-keys/\(others)", method: .delete, headers: auth).status == .notFound)
            #expect(try await client.execute(uri: "/registration-keys/\(key)", method: .delete, headers: auth).status == .noContent)
            let again = try await client.execute(uri: "/registration-keys/\(key)", method: .delete, headers: auth)
            #expect(again.status == .notFound)
            #expect(again.message?.contains(key) == false)  // masked
            #expect(try await client.register(SimulatedDevice(), key: key).status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabase.all)
    func missingOrUnknownTokenIs401AndWrongRoleIs403(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            for headers in [[:], [.authorization: "Bearer nope"], [.authorization: "Basic abc"], [.authorization: "Bearer "]] as [HTTPFields] {
                let response = try await client.execute(uri: "/registration-keys", method: .post, headers: headers)
                #expect(response.status == .unauthorized)
                #expect(response.message == "Unauthorized")
            }
            let audit = try await client.get("/audit", token: test.operatorToken)
            #expect(audit.status == .forbidden)
            #expect(try await client.get("/devices", token: test.operatorToken).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.all)
    func revokedTokenIsRefused(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { (test: TestRegistry, client: any TestClientProtocol) async throws in
            #expect(try await test.registry.tokens.revoke(name: "operator", by: AuditActor(actor: "test", client: "local")))
            #expect(try await client.get("/registration-keys", token: test.operatorToken).status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabase.all)
    func keysRestSealedAndOlderPlaintextKeysAreSealedAtStart(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let minted = try await client.mintKey(test.adminToken)
            let record = try #require(try await test.keyRecord(minted))
            #expect(record.key != minted && record.key.count == 64 && !record.sealed.contains(minted))

            // A key an older Ember stored as it is.
            let sql = try #require(test.store as? SQLStore)
            try await sql.provider.write { db in
                try await db.insert(into: "registration_keys").columns("key", "created_by", "generated_at", "expires_at")
                    .values(SQLBind("OLDKEY"), SQLBind("admin"), SQLBind(test.clock.now()), SQLBind(test.clock.now() + 600)).run()
            }
            #expect(try await test.registry.keys.prepare() == 1)
            #expect(try await test.registry.keys.prepare() == 0, "once")
            #expect(try await test.store.registrationKey("OLDKEY") == nil, "no plaintext row is left")
            let listed = try await client.get("/registration-keys", token: test.adminToken).decode(RegistrationKeyList.self)
            #expect(Set(listed.registrationKeys.map(\.key)) == [minted, "OLDKEY"])
            #expect(try await client.register(SimulatedDevice(), key: "OLDKEY").status == .noContent)
        }
    }

    @Test func aSealedKeyOpensOnlyWithItsKeyEncryptionKeyAndItsOwnRow() throws {
        let sealer = RegistrationKeySealer.ephemeral()
        let sealed = try sealer.seal("ab12cd")
        #expect(sealer.lookup("ab12cd") == sealer.lookup("AB12CD"))
        #expect(try sealer.open(sealed, lookup: sealer.lookup("AB12CD")) == "AB12CD")
        #expect(throws: RegistrationKeySealer.Failure.self) { try sealer.open(sealed, lookup: sealer.lookup("ZZ99ZZ")) }
        #expect(throws: RegistrationKeySealer.Failure.self) { try RegistrationKeySealer.ephemeral().open(sealed, lookup: sealer.lookup("AB12CD")) }
        #expect(RegistrationKeySealer.ephemeral().fingerprint != sealer.fingerprint)
    }
}
