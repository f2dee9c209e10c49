import AsyncHTTPClient
import Crypto
import Dispatch
import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import EmberPKI
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// `ember bench enroll`: zero-touch enrollments/s (chain check, registration, device certificate) beside key
/// registrations/s in the same run, and signed checks/s over HTTPS beside plain HTTP.
public enum EnrollBenchmark {
    public struct Options: Sendable {
        public var devices = 2_000
        public var concurrency = 64
        /// Seconds of signed checks on each transport.
        public var duration: Double = 10

        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var enrollmentsPerS: Double
        public var enrollmentP50Ms: Double
        public var enrollmentP99Ms: Double
        public var registrationsPerS: Double
        public var enrollmentRatioToRegistrations: Double
        public var httpsChecksPerS: Double
        public var httpsCheckP99Ms: Double
        public var httpChecksPerS: Double
        public var httpsRatioToHTTP: Double
        public var errors: Int
        public var concurrency: Int
        public var devices: Int

        enum CodingKeys: String, CodingKey {
            case enrollmentsPerS = "enrollments_per_s"
            case enrollmentP50Ms = "enrollment_p50_ms"
            case enrollmentP99Ms = "enrollment_p99_ms"
            case registrationsPerS = "registrations_per_s"
            case enrollmentRatioToRegistrations = "enrollment_ratio_to_registrations"
            case httpsChecksPerS = "https_checks_per_s"
            case httpsCheckP99Ms = "https_check_p99_ms"
            case httpChecksPerS = "http_checks_per_s"
            case httpsRatioToHTTP = "https_ratio_to_http"
            case errors, concurrency, devices
        }

        public var table: String {
            func number(_ value: Double) -> String { String(format: "%.0f", value) }
            return [
                "figure                                     value      anchor (same run)          ratio  goal",
                "enrollments/s (\(concurrency) concurrent, any-trusted) \(number(enrollmentsPerS).padding(toLength: 9, withPad: " ", startingAt: 0))  "
                    + "registrations/s \(number(registrationsPerS).padding(toLength: 9, withPad: " ", startingAt: 0))  "
                    + String(format: "%.2f", enrollmentRatioToRegistrations) + "   ≥ 0.50",
                "signed checks/s over HTTPS                 \(number(httpsChecksPerS).padding(toLength: 9, withPad: " ", startingAt: 0))  "
                    + "over HTTP       \(number(httpChecksPerS).padding(toLength: 9, withPad: " ", startingAt: 0))  "
                    + String(format: "%.2f", httpsRatioToHTTP) + "   ≥ 0.70",
                String(
                    format: "enrollment p50 %.1f ms, p99 %.1f ms; HTTPS check p99 %.1f ms; errors %d",
                    enrollmentP50Ms,
                    enrollmentP99Ms,
                    httpsCheckP99Ms,
                    errors
                ),
            ].joined(separator: "\n")
        }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Result {
        let factory = try CertificateAuthority.root(commonName: "Bench onboarding root", now: Date())
        progress("issuing \(options.devices) onboarding certificates")
        let boards = try (0..<options.devices).map { index in
            let key = P256.Signing.PrivateKey()
            let certificate = PEMText.of(try factory.issueOnboarding(serial: "BENCH-\(index)", publicKey: key.publicKey, now: Date()))
            let body = try JSONEncoder().encode(
                EnrollmentRequest(onboardingCertificate: certificate, onboardingChain: [], registration: try SimulatedDevice().registrationBody())
            )
            return (key, body)
        }
        let checks = {
            var checks = RegistryBenchmark.Options()
            checks.registrations = options.devices
            checks.concurrency = options.concurrency
            checks.duration = options.duration
            checks.opensslSeconds = 0
            return checks
        }()

        // Plain HTTP: key registrations (the anchor), enrollments, signed checks.
        let anyTrusted: (inout RegistryConfiguration) -> Void = { $0.zeroTouch = .anyTrusted }
        let (plain, enrollment) = try await InProcessRegistry.serve(database: nil, configure: anyTrusted) {
            base,
            token,
            database in
            progress("registrations with keys and signed checks over HTTP")
            let plain = try await RegistryBenchmark.drive(
                baseURL: base,
                token: token,
                options: checks,
                database: database,
                inProcess: true,
                progress: progress
            )
            let admin = RegistryClient(baseURL: base, token: token)
            _ = try await admin.addOnboardingRoot(pem: factory.certificatePEM)
            progress("enrolling \(options.devices) boards, \(options.concurrency) concurrent")
            let enrollment = try await InProcessRegistry.withHTTPClient(concurrency: options.concurrency) { http in
                let client = RegistryClient(baseURL: base, http: http)
                let start = DispatchTime.now().uptimeNanoseconds
                let samples = try await RegistryBenchmark.concurrently(count: boards.count, concurrency: options.concurrency) { index in
                    let (key, body) = boards[index]
                    let began = DispatchTime.now().uptimeNanoseconds
                    let headers = try OnboardingSignature.headers(
                        body: body,
                        key: key,
                        at: DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
                    )
                    let reply = try await client.enroll(body: body, headers: headers)
                    return (DispatchTime.now().uptimeNanoseconds - began, reply.status == 201)
                }
                return (samples, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return (plain, enrollment)
        }

        // HTTPS: the same registrations and checks, with a certificate made here.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-bench-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (root, files) = try serverCertificate(in: folder)
        var client = TLSConfiguration.makeClientConfiguration()
        client.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(root.utf8), format: .pem)])
        let tls = client
        let overTLS: (inout RegistryConfiguration) -> Void = { $0.tls = files }
        let secure = try await InProcessRegistry.serve(database: nil, configure: overTLS) { base, token, database in
            progress("registrations and signed checks over HTTPS")
            return try await RegistryBenchmark.drive(
                baseURL: base,
                token: token,
                options: checks,
                database: database,
                inProcess: true,
                tls: tls,
                progress: progress
            )
        }

        let latencies = LatencyHistogram(enrollment.0.map(\.0))
        let enrollmentsPerS = Double(boards.count) / enrollment.1
        return Result(
            enrollmentsPerS: enrollmentsPerS,
            enrollmentP50Ms: latencies.milliseconds(0.5),
            enrollmentP99Ms: latencies.milliseconds(0.99),
            registrationsPerS: plain.registrationsPerS,
            enrollmentRatioToRegistrations: enrollmentsPerS / plain.registrationsPerS,
            httpsChecksPerS: secure.checksPerS,
            httpsCheckP99Ms: secure.checkP99Ms,
            httpChecksPerS: plain.checksPerS,
            httpsRatioToHTTP: secure.checksPerS / plain.checksPerS,
            errors: plain.errors + secure.errors + enrollment.0.filter { !$0.1 }.count,
            concurrency: options.concurrency,
            devices: options.devices
        )
    }

    /// A root and a P-256 server certificate for 127.0.0.1 under it, written to `folder`.
    static func serverCertificate(in folder: URL) throws -> (rootPEM: String, files: TLSFiles) {
        let now = Date()
        let authority = try CertificateAuthority.root(commonName: "Bench TLS root", now: now)
        let key = P256.Signing.PrivateKey()
        let leaf = try authority.issue(
            subject: try DistinguishedName { CommonName("127.0.0.1") },
            publicKey: key.publicKey,
            notBefore: now - 3_600,
            notAfter: now + 86_400,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            }
        )
        let files = TLSFiles(
            certificateChain: folder.appendingPathComponent("server.pem").path,
            privateKey: folder.appendingPathComponent("server.key").path
        )
        try Data(PEMText.of(leaf).utf8).write(to: URL(fileURLWithPath: files.certificateChain))
        try Data(key.pemRepresentation.utf8).write(to: URL(fileURLWithPath: files.privateKey))
        return (authority.certificatePEM, files)
    }
}
