import Crypto
import EmberClient
import EmberCore
import EmberPKI
import Foundation
import NIOHTTP1
import SwiftASN1
import Testing
@_spi(FixedExpiryValidationTime) import X509

#if canImport(Glibc)
import Glibc
#endif

/// Zero-touch with real processes (lifecycle §6): `ember ca` → `ember device init --onboarding` → `ember device run`
/// against `ember serve --tls-cert` over HTTPS.
@Suite(.serialized)
struct ZeroTouchEndToEndTests {
    typealias Device = DeviceAgentTests.Device
    static let bootstrap = DeviceAgentTests.bootstrap

    /// A TLS root and a server certificate for 127.0.0.1 under it, written to `folder`: (root file, cert, key).
    static func serverTLS(in folder: URL, name: String) throws -> (root: URL, certificate: URL, key: URL) {
        let now = Date()
        let authority = try CertificateAuthority.root(commonName: "\(name) TLS root", now: now)
        let key = P256.Signing.PrivateKey()
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
        }
        let leaf = try authority.issue(
            subject: try DistinguishedName { CommonName("127.0.0.1") },
            publicKey: key.publicKey,
            notBefore: now - 3_600,
            notAfter: now + 86_400,
            extensions: extensions
        )
        let files = (
            root: folder.appendingPathComponent("\(name)-root.pem"), certificate: folder.appendingPathComponent("\(name)-server.pem"),
            key: folder.appendingPathComponent("\(name)-server.key")
        )
        try Data(authority.certificatePEM.utf8).write(to: files.root)
        try Data(PEMText.of(leaf).utf8).write(to: files.certificate)
        try Data(key.pemRepresentation.utf8).write(to: files.key)
        return files
    }

    static func run(_ arguments: [String]) async throws {
        let result = try await EmberProcess.run(arguments)
        #expect(result.status == 0, "ember \(arguments.joined(separator: " ")): \(result.output)")
    }

    /// Creates a board with `serial`'s onboarding files and the given cloud trust, starts it and burns an identity.
    static func board(
        _ name: String,
        serial: String,
        folder: URL,
        cloud: String,
        trust: URL,
        extra: [String] = []
    ) async throws -> (Device, String) {
        let board = folder.appendingPathComponent(name)
        try await run([
            "ca", "issue", "--ca", folder.appendingPathComponent("ca").path, "--serial", serial, "--out",
            folder.appendingPathComponent("\(name)-onboarding").path,
        ])
        try await run(
            [
                "device", "init", "--product", "FFC0806-2305", "--dir", board.path, "--cloud", cloud,
                "--onboarding", folder.appendingPathComponent("\(name)-onboarding").path, "--root-certificate", trust.path,
            ] + extra
        )
        let device = try await Device.start(board: board, folder: folder, cloud: cloud, create: false)
        return (device, try await device.provision())
    }

    static func zeroTouch(_ device: Device) async throws -> [String: Any] {
        let reply = try await device.call(.GET, "/api/zero-touch")
        return (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any]) ?? [:]
    }

    /// Waits (bounded) until `/api/zero-touch` shows `expected` under `key`.
    static func waitForZeroTouch(_ device: Device, _ key: String, _ expected: String, seconds: Double = 20) async throws {
        let reached = try await waitUntil(seconds) { (try await zeroTouch(device))[key] as? String == expected }
        let status = try await zeroTouch(device)
        #expect(reached, "\(key) never became \(expected): \(status)")
    }

    static let waitUntil = LifecycleEndToEndTests.waitUntil

    /// An onboarding CA in `folder/ca`, and `ember serve` over HTTPS trusting its root: (the registry, its TLS files,
    /// an admin client that trusts the registry's TLS root).
    static func httpsRegistry(
        in folder: URL
    ) async throws -> (cloud: EmberProcess, tls: (root: URL, certificate: URL, key: URL), admin: RegistryClient) {
        try await run(["ca", "init", "--dir", folder.appendingPathComponent("ca").path])
        let tls = try serverTLS(in: folder, name: "registry")
        let cloud = try await EmberProcess(
            database: "sqlite:\(folder.path)/ember.sqlite",
            folder: folder,
            environment: ["EMBER_BOOTSTRAP_TOKEN": bootstrap],
            arguments: ["--tls-cert", tls.certificate.path, "--tls-key", tls.key.path]
        )
        let admin = RegistryClient(baseURL: cloud.baseURL, token: bootstrap, http: try TrustedHTTP.client(rootFile: tls.root.path))
        _ = try await admin.addOnboardingRoot(
            pem: try String(contentsOf: folder.appendingPathComponent("ca/onboarding-root.cert.pem"), encoding: .utf8)
        )
        return (cloud, tls, admin)
    }

    @Test func aWiFiBoardEnrollsOnceTheUserGivesItANetwork() async throws {
        try await withTemporaryFolder { folder in
            let (cloud, tls, admin) = try await Self.httpsRegistry(in: folder)
            let (device, uuid) = try await Self.board(
                "board",
                serial: "SN-E2E-W",
                folder: folder,
                cloud: cloud.baseURL,
                trust: tls.root,
                extra: ["--wifi-network", "Site=site-password"]
            )
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.zeroTouch(device)["attempts"] as? Int == 0, "no network: no enrollment round")
            let started = try await device.call(.PUT, "/api/provisioning", json: #"{"wifi":{"ssid":"Site","password":"site-password"}}"#)
            #expect(started.status == 202, "the onboarding server is the default cloud: \(started.message)")
            let waiting = try await Self.waitUntil(20) {
                let reply = try await device.client.send(.GET, "/api/provisioning")
                return String(decoding: reply.body, as: UTF8.self).contains("Device not pre-registered")
            }
            #expect(waiting, "validating shows the registry's answer while the serial is not pre-registered")
            _ = try await admin.preregister(PreregistrationRequest(serial: "SN-E2E-W"))
            try await Self.waitForZeroTouch(device, "state", "enrolled")
            #expect(
                try await Self.waitUntil(20) {
                    let reply = try await device.client.send(.GET, "/api/provisioning")
                    return String(decoding: reply.body, as: UTF8.self).contains(#""state":"operational""#)
                }
            )
            #expect(try await admin.device(uuid).registeredBy == "onboarding:SN-E2E-W")
        }
    }

    @Test func aBoardEnrollsByItselfOverHTTPSOnceItsSerialIsPreregistered() async throws {
        try await withTemporaryFolder { folder in
            let (cloud, tls, admin) = try await Self.httpsRegistry(in: folder)
            #expect(cloud.scheme == "https")

            // Not pre-registered: the board keeps trying (403) without anyone touching it, and succeeds once it is.
            let (device, uuid) = try await Self.board("board", serial: "SN-E2E-1", folder: folder, cloud: cloud.baseURL, trust: tls.root)
            try await Self.waitForZeroTouch(device, "message", "Device not pre-registered")
            _ = try await admin.preregister(PreregistrationRequest(serial: "SN-E2E-1", region: "eu-west"))
            try await Self.waitForZeroTouch(device, "state", "enrolled")
            #expect(try await Self.waitUntil(10) { try await device.registered() })
            #expect(try await device.events().contains("Cloud registered"))

            let record = try await admin.device(uuid)
            #expect(record.registeredBy == "onboarding:SN-E2E-1" && record.region == "eu-west")
            let pem = try String(contentsOf: device.board.appendingPathComponent("config/device.cert.pem"), encoding: .utf8)
            let certificate = try Certificate(pemEncoded: pem)
            var verifier = Verifier(rootCertificates: CertificateStore([try Certificate(pemEncoded: try await admin.deviceCA())])) {
                RFC5280Policy(fixedExpiryValidationTime: Date())
            }
            guard case .validCertificate = await verifier.validate(leaf: certificate, intermediates: CertificateStore()) else {
                Issue.record("device.cert.pem does not verify against GET /ca.pem")
                return
            }
            #expect("\(certificate.subject)" == "CN=\(uuid)")

            // Power lost after the registry enrolled it, before the certificate was saved: the next boot finishes, once.
            let (second, secondUUID) = try await Self.board("board2", serial: "SN-E2E-2", folder: folder, cloud: cloud.baseURL, trust: tls.root)
            try await second.process.stop(signal: SIGTERM)
            _ = try await admin.preregister(PreregistrationRequest(serial: "SN-E2E-2"))
            try await Self.run(["device", "fault", "--dir", second.board.path, "--power-loss-at", "enrollment-accepted"])
            let lost = try await EmberProcess.run(["device", "run", "--dir", second.board.path, "--port", "0", "--retry-cap", "0.5"], timeout: 30)
            #expect(lost.status == SIGKILL, "\(lost.output)")
            #expect(!FileManager.default.fileExists(atPath: second.board.appendingPathComponent("config/device.cert.pem").path))
            let resumed = try await Device.start(board: second.board, folder: folder, cloud: cloud.baseURL, create: false)
            try await Self.waitForZeroTouch(resumed, "state", "enrolled")
            let devices = try await admin.devices().devices
            #expect(devices.filter { $0.uuid == secondUUID }.count == 1 && devices.count == 2)
            let enrolled = try await admin.audit(limit: 100, action: "device.enrolled").entries
            #expect(enrolled.filter { $0.subject == secondUUID }.count == 1, "enrolled exactly once")

            // A board that trusts another root for the cloud refuses to talk to this registry.
            let stranger = try Self.serverTLS(in: folder, name: "stranger")
            _ = try await admin.preregister(PreregistrationRequest(serial: "SN-E2E-3"))
            let (third, thirdUUID) = try await Self.board("board3", serial: "SN-E2E-3", folder: folder, cloud: cloud.baseURL, trust: stranger.root)
            #expect(try await Self.waitUntil(20) { (try await Self.zeroTouch(third))["attempts"] as? Int ?? 0 >= 3 })
            let status = try await Self.zeroTouch(third)
            #expect(status["state"] as? String == "enrolling" && status["message"] as? String == "Cloud unreachable", "\(status)")
            #expect(try await admin.devices().devices.allSatisfy { $0.uuid != thirdUUID })

            // An onboarding certificate under a root the registry does not trust: 401, `Zero-touch failed`, no retry.
            try await Self.run(["ca", "init", "--dir", folder.appendingPathComponent("other-ca").path])
            try await Self.run([
                "ca", "issue", "--ca", folder.appendingPathComponent("other-ca").path, "--serial", "SN-E2E-4", "--out",
                folder.appendingPathComponent("board4-onboarding").path,
            ])
            let fourthBoard = folder.appendingPathComponent("board4")
            try await Self.run([
                "device", "init", "--product", "FFC0806-2305", "--dir", fourthBoard.path, "--cloud", cloud.baseURL,
                "--onboarding", folder.appendingPathComponent("board4-onboarding").path, "--root-certificate", tls.root.path,
            ])
            let missing = try await EmberProcess.run([
                "device", "init", "--product", "FFC0806-2305", "--dir", folder.appendingPathComponent("board5").path, "--cloud", cloud.baseURL,
                "--onboarding", folder.appendingPathComponent("nowhere").path,
            ])
            #expect(missing.status != 0 && missing.output.contains("has no onboard.cert.pem"), "\(missing.output)")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("board5").path), "no half-made board")
            let fourth = try await Device.start(board: fourthBoard, folder: folder, cloud: cloud.baseURL, create: false)
            _ = try await fourth.provision()
            try await Self.waitForZeroTouch(fourth, "state", "failed")
            let refused = try await Self.zeroTouch(fourth)
            #expect(refused["message"] as? String == "Onboarding certificate not trusted" && refused["attempts"] as? Int == 1, "\(refused)")
            #expect(try await fourth.events().contains("Zero-touch failed"))

            for board in [device, resumed, third, fourth] { try await board.process.stop(signal: SIGTERM) }
            try await cloud.stop(signal: SIGTERM)
        }
    }
}
