import Crypto
import EmberCloud
import EmberCore
import EmberFleet
import EmberPKI
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import SwiftASN1
import Testing
@_spi(FixedExpiryValidationTime) import X509

/// A factory PKI made in the test: root → intermediate → one onboarding leaf per board.
struct TestFactory: Sendable {
    let root: CertificateAuthority
    let line: CertificateAuthority
    let now: Date

    init(now: Int64) throws {
        self.now = Date(timeIntervalSince1970: TimeInterval(now))
        root = try CertificateAuthority.root(commonName: "Test onboarding root", organization: "Ember tests", now: self.now)
        line = try root.intermediate(commonName: "Test factory line 1", now: self.now)
    }

    /// A board: its onboarding key, its certificate under the intermediate, the simulated device.
    struct Board: Sendable {
        let device: SimulatedDevice
        let key: P256.Signing.PrivateKey
        var certificate: String
        var chain: [String]
    }

    func board(serial: String, device: SimulatedDevice = SimulatedDevice()) throws -> Board {
        let key = P256.Signing.PrivateKey()
        let leaf = try line.issueOnboarding(serial: serial, publicKey: key.publicKey, now: now)
        return Board(device: device, key: key, certificate: PEMText.of(leaf), chain: [line.certificatePEM])
    }

    /// A leaf with chosen validity and usage, for the refusals.
    func leaf(
        serial: String,
        key: P256.Signing.PrivateKey,
        from: Date,
        to: Date,
        usage: KeyUsage = KeyUsage(digitalSignature: true)
    ) throws
        -> String
    {
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(usage)
        }
        let subject = DistinguishedName([RelativeDistinguishedName(try .init(type: [2, 5, 4, 5], printableString: serial))])
        return PEMText.of(try line.issue(subject: subject, publicKey: key.publicKey, notBefore: from, notAfter: to, extensions: extensions))
    }
}

extension TestClientProtocol {
    /// `POST /devices/enroll` for `board`, signed by `signer` (its own key unless told) at `at`.
    func enroll(
        _ board: TestFactory.Board,
        at: DeviceTimestamp,
        signer: P256.Signing.PrivateKey? = nil,
        headers reuse: [(String, String)]? = nil
    )
        async throws -> (TestResponse, [(String, String)])
    {
        let request = EnrollmentRequest(
            onboardingCertificate: board.certificate,
            onboardingChain: board.chain,
            registration: try board.device.registrationBody()
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = try encoder.encode(request)
        let signed = try reuse ?? OnboardingSignature.headers(body: body, key: signer ?? board.key, at: at)
        var fields: HTTPFields = [.contentType: "application/json"]
        for (name, value) in signed { fields[HTTPField.Name(name)!] = value }
        return (try await execute(uri: "/devices/enroll", method: .post, headers: fields, body: ByteBuffer(data: body)), signed)
    }

    func trust(_ pem: String, token: String) async throws -> TestResponse {
        try await execute(uri: "/onboarding-roots", method: .post, headers: [.authorization: "Bearer \(token)"], body: ByteBuffer(string: pem))
    }

    func preregister(_ json: String, token: String) async throws -> TestResponse {
        try await execute(
            uri: "/preregistrations",
            method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
            body: ByteBuffer(string: json)
        )
    }
}

/// Zero-touch enrollment through the router (lifecycle §6), on both databases.
struct EnrollmentTests {
    static func prepared(_ test: TestRegistry, _ client: some TestClientProtocol) async throws -> TestFactory {
        let factory = try TestFactory(now: test.clock.now())
        #expect(try await client.trust(factory.root.certificatePEM, token: test.adminToken).status == .created)
        return factory
    }

    @Test(arguments: TestDatabase.all)
    func aValidChainEnrollsAndGetsADeviceCertificate(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let factory = try await Self.prepared(test, client)
            let created = try await client.preregister(
                #"{"serial":"SN-0001","product_hex":"0x08062305","region":"eu-west","fleet_id":"line-7"}"#,
                token: test.operatorToken
            )
            #expect(created.status == .created)
            let board = try factory.board(serial: "SN-0001")
            let (response, _) = try await client.enroll(board, at: test.now)
            #expect(response.status == .created, "\(response.message ?? "")")
            let reply = try response.decode(DeviceCertificateReply.self)

            let ca = try await client.execute(uri: "/ca.pem", method: .get) { String(buffer: $0.body) }
            #expect(ca == reply.caCertificate)
            let certificate = try Certificate(pemEncoded: reply.deviceCertificate)
            var verifier = Verifier(rootCertificates: CertificateStore([try Certificate(pemEncoded: ca)])) {
                RFC5280Policy(fixedExpiryValidationTime: Date(timeIntervalSince1970: TimeInterval(test.clock.now())))
            }
            guard case .validCertificate = await verifier.validate(leaf: certificate, intermediates: CertificateStore()) else {
                Issue.record("the device certificate does not verify against GET /ca.pem")
                return
            }
            let uuid = DeviceUUID.format(board.device.uuid)
            #expect("\(certificate.subject)" == "CN=\(uuid)")
            #expect(try certificate.extensions.subjectAlternativeNames?.contains(.uniformResourceIdentifier("urn:uuid:\(uuid)")) == true)
            #expect(P256.Signing.PublicKey(certificate.publicKey)?.rawRepresentation == (try board.device.master.publicKey().key.rawRepresentation))

            let record = try #require(try await test.store.device(uuid: uuid))
            #expect(record.registeredBy == "onboarding:SN-0001" && record.region == "eu-west" && record.fleetID == "line-7")
            let listed = try await client.get("/preregistrations", token: test.operatorToken).decode(PreregistrationPage.self)
            #expect(listed.preregistrations.first?.enrolledUUID == uuid)

            test.clock.advance(by: 1)
            let (again, _) = try await client.enroll(board, at: test.now)
            let repeated = try again.decode(DeviceCertificateReply.self)
            #expect(again.status == .ok && repeated == reply, "a repeat gets the same certificate")
            let audit = try await test.store.auditEntries(limit: 100, after: nil)
            #expect(audit.filter { $0.action == "device.enrolled" }.count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func untrustedCertificatesAre401AndRegisterNothing(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.zeroTouch = .anyTrusted }) { test, client in
            let factory = try await Self.prepared(test, client)
            let day: TimeInterval = 86_400
            let now = factory.now
            var cases: [(String, TestFactory.Board)] = []
            for (name, from, to, usage) in [
                ("expired", now - 30 * day, now - day, KeyUsage(digitalSignature: true)),
                ("not yet valid", now + day, now + 30 * day, KeyUsage(digitalSignature: true)),
                ("wrong key usage", now - day, now + day, KeyUsage(keyEncipherment: true)),
            ] {
                var board = try factory.board(serial: "SN-\(cases.count)")
                board.certificate = try factory.leaf(serial: "SN-\(cases.count)", key: board.key, from: from, to: to, usage: usage)
                cases.append((name, board))
            }
            let stranger = try TestFactory(now: test.clock.now())
            cases.append(("wrong root", try stranger.board(serial: "SN-9")))
            let key = P256.Signing.PrivateKey()
            var selfSigned = try factory.board(serial: "SN-self")
            let own = try CertificateAuthority(
                certificate: try Certificate(
                    version: .v3,
                    serialNumber: .init(),
                    publicKey: .init(key.publicKey),
                    notValidBefore: now - day,
                    notValidAfter: now + day,
                    issuer: try DistinguishedName { CommonName("SN-self") },
                    subject: try DistinguishedName { CommonName("SN-self") },
                    signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
                    issuerPrivateKey: .init(key)
                ),
                key: key
            )
            selfSigned = TestFactory.Board(device: selfSigned.device, key: key, certificate: own.certificatePEM, chain: [])
            cases.append(("self-signed", selfSigned))
            for (name, board) in cases {
                let (response, _) = try await client.enroll(board, at: test.now)
                #expect(response.status == .unauthorized && response.message == "Onboarding certificate not trusted", "\(name)")
                #expect(try await test.store.device(uuid: DeviceUUID.format(board.device.uuid)) == nil, "\(name)")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aSignatureByAnotherKeyOrAReplayIs401(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database, .testing { $0.zeroTouch = .anyTrusted }) { test, client in
            let factory = try await Self.prepared(test, client)
            let board = try factory.board(serial: "SN-1")
            let (forged, _) = try await client.enroll(board, at: test.now, signer: P256.Signing.PrivateKey())
            #expect(forged.status == .unauthorized && forged.message == "Onboarding signature verification failed")
            test.clock.advance(by: 60)
            let (stale, _) = try await client.enroll(board, at: DeviceTimestamp(epochSeconds: test.clock.now() - 60))
            #expect(stale.status == .unauthorized && stale.message == "X-Onboarding-Timestamp is outside the acceptance window")
            let (first, headers) = try await client.enroll(board, at: test.now)
            #expect(first.status == .created)
            let (replay, _) = try await client.enroll(board, at: test.now, headers: headers)
            #expect(replay.status == .unauthorized && replay.message == "Nonce already used")
        }
    }

    @Test(arguments: TestDatabase.all)
    func aSerialMustBePreregisteredAndEnrollsOneDevice(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let factory = try await Self.prepared(test, client)
            let board = try factory.board(serial: "SN-7")
            let (early, _) = try await client.enroll(board, at: test.now)
            #expect(early.status == .forbidden && early.message == "Device not pre-registered")
            #expect(try await client.preregister(#"{"serial":"SN-7","product_hex":"0x01020304"}"#, token: test.adminToken).status == .created)
            let (wrongProduct, _) = try await client.enroll(board, at: test.now)
            #expect(wrongProduct.status == .forbidden && wrongProduct.message?.hasPrefix("Device not pre-registered for product") == true)
            let deleted = try await client.execute(
                uri: "/preregistrations/SN-7",
                method: .delete,
                headers: [.authorization: "Bearer \(test.adminToken)"]
            )
            #expect(deleted.status == .noContent)
            #expect(try await client.preregister(#"{"serial":"SN-7"}"#, token: test.adminToken).status == .created)
            let (late, _) = try await client.enroll(board, at: test.now)
            #expect(late.status == .created)

            let clone = try factory.board(serial: "SN-7")
            let (second, _) = try await client.enroll(clone, at: test.now)
            #expect(second.status == .conflict && second.message == "Onboarding serial already enrolled by another device")
            #expect(try await test.store.device(uuid: DeviceUUID.format(clone.device.uuid)) == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theCertificateRouteIssuesForTheCurrentKey(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            var device = try await LifecycleRouteTests.registered(test, client)
            let path = "/devices/\(device.uuid)/certificate"
            let first = try await LifecycleRouteTests.signed(client, test, device, .get, path)
            #expect(first.status == .ok)
            let issued = try first.decode(DeviceCertificateReply.self)
            let again = try await LifecycleRouteTests.signed(client, test, device, .get, path)
            #expect(try again.decode(DeviceCertificateReply.self) == issued)

            let new = P256.Signing.PrivateKey()
            #expect(try await LifecycleRouteTests.submit(client, test, device, epoch: 1, key: new).status == .created)
            device.key = new
            let rotated = try await LifecycleRouteTests.signed(client, test, device, .get, path)
            let certificate = try Certificate(pemEncoded: try rotated.decode(DeviceCertificateReply.self).deviceCertificate)
            #expect(P256.Signing.PublicKey(certificate.publicKey)?.rawRepresentation == new.publicKey.rawRepresentation)
            let v1 = try await LifecycleRouteTests.signed(client, test, device, .get, path, version: .v1)
            #expect(v1.status == .unauthorized)
            let audit = try await test.store.auditEntries(limit: 100, after: nil)
            #expect(audit.filter { $0.action == "device.certificate_issued" }.count == 2)
        }
    }

    @Test(arguments: TestDatabase.all)
    func badOnboardingInputIs4xxWithAMessage(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let factory = try await Self.prepared(test, client)
            #expect(try await client.trust(factory.root.certificatePEM, token: test.adminToken).status == .conflict)
            #expect(try await client.trust(factory.root.certificatePEM, token: test.operatorToken).status == .forbidden)
            let garbage = try await client.trust("hello", token: test.adminToken)
            #expect(garbage.status == .badRequest && garbage.message?.contains("PEM") == true)
            let leaf = try factory.board(serial: "SN-1").certificate
            #expect(try await client.trust(leaf, token: test.adminToken).status == .badRequest)
            let unknown = try await client.execute(
                uri: "/onboarding-roots/\(String(repeating: "0", count: 64))",
                method: .delete,
                headers: [.authorization: "Bearer \(test.adminToken)"]
            )
            #expect(unknown.status == .notFound)
            let badName = try await client.execute(
                uri: "/onboarding-roots/xyz",
                method: .delete,
                headers: [.authorization: "Bearer \(test.adminToken)"]
            )
            #expect(badName.status == .badRequest)

            for (json, message) in [
                ("{}", "Field serial is required"),
                (#"{"serial":"a b"}"#, "Field serial must be 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'"),
                (#"{"serial":"S","product_hex":"zz"}"#, "Invalid product_hex, see docs"),
                (#"{"serial":"S","region":"EU"}"#, "Field region must be at most 32 of a-z, 0-9 and -"),
                ("[", nil),
            ] {
                let response = try await client.preregister(json, token: test.operatorToken)
                #expect(response.status == .badRequest && (message == nil || response.message == message), "\(json): \(response.message ?? "")")
            }
            #expect(try await client.preregister(#"{"serial":"S"}"#, token: test.operatorToken).status == .created)
            #expect(try await client.preregister(#"{"serial":"S"}"#, token: test.operatorToken).status == .conflict)

            let unsigned = try await client.execute(
                uri: "/devices/enroll",
                method: .post,
                headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{}")
            )
            #expect(unsigned.status == .badRequest && unsigned.message?.hasPrefix("Missing X-Onboarding-Timestamp") == true)
            let text = try await client.execute(
                uri: "/devices/enroll",
                method: .post,
                headers: [.contentType: "text/plain"],
                body: ByteBuffer(string: "{}")
            )
            #expect(text.status == .unsupportedMediaType)
            var board = try factory.board(serial: "S")
            board.certificate = "not a certificate"
            let (broken, _) = try await client.enroll(board, at: test.now)
            #expect(broken.status == .unauthorized && broken.message == "Onboarding certificate not trusted")
            #expect(try await test.store.devices(limit: 10, after: nil, filter: DeviceFilter()).isEmpty)
        }
    }
}
