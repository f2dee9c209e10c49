import AsyncHTTPClient
import Crypto
import Dispatch
import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// `ember bench registry`: an in-process registry on loopback driven by concurrent HTTP clients.
public enum RegistryBenchmark {
    /// How to run.
    public struct Options: Sendable {
        public var registrations = 5_000
        public var duration: Double = 10
        public var concurrency = 64
        public var signature = SignatureVersion.v2
        /// Seconds openssl measures verify for; 0 skips it.
        public var opensslSeconds = 2
        public var database: String?
        /// Drive a running registry (e.g. a cluster behind nginx) instead of an in-process one; needs `token`.
        public var server: String?
        /// An admin token of `server`.
        public var token: String?

        public init() {}
    }

    /// The figures of one run.
    public struct Result: Codable, Sendable {
        public var registrationsPerS: Double
        public var registrationP50Ms: Double
        public var registrationP90Ms: Double
        public var registrationP99Ms: Double
        public var keysMintedPerS: Double
        public var checksPerS: Double
        public var checkP50Ms: Double
        public var checkP90Ms: Double
        public var checkP99Ms: Double
        public var checkMaxMs: Double
        public var errors: Int
        public var serverRssMib: Double?
        public var opensslVerifyPerS: Double?
        public var cores: Int
        public var checkRatioToOpensslLimit: Double?
        public var concurrency: Int
        public var signature: String
        public var database: String

        enum CodingKeys: String, CodingKey {
            case registrationsPerS = "registrations_per_s"
            case registrationP50Ms = "registration_p50_ms"
            case registrationP90Ms = "registration_p90_ms"
            case registrationP99Ms = "registration_p99_ms"
            case keysMintedPerS = "keys_minted_per_s"
            case checksPerS = "checks_per_s"
            case checkP50Ms = "check_p50_ms"
            case checkP90Ms = "check_p90_ms"
            case checkP99Ms = "check_p99_ms"
            case checkMaxMs = "check_max_ms"
            case errors
            case serverRssMib = "server_rss_mib"
            case opensslVerifyPerS = "openssl_verify_per_s"
            case cores
            case checkRatioToOpensslLimit = "check_ratio_to_openssl_limit"
            case concurrency, signature, database
        }
    }

    /// Runs the benchmark; `progress` receives one line per phase.
    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Result {
        if let server = options.server {
            guard let token = options.token else { throw CryptoBenchmark.Failure(description: "--server needs --token") }
            return try await drive(baseURL: server, token: token, options: options, database: server, inProcess: false, progress: progress)
        }
        return try await InProcessRegistry.serve(database: options.database) { baseURL, token, database in
            try await drive(baseURL: baseURL, token: token, options: options, database: database, inProcess: true, progress: progress)
        }
    }

    static func drive(
        baseURL: String,
        token: String,
        options: Options,
        database: String,
        inProcess: Bool,
        tls: TLSConfiguration? = nil,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        try await InProcessRegistry.withHTTPClient(concurrency: options.concurrency, tls: tls) { http in
            try await drive(
                http: http,
                baseURL: baseURL,
                token: token,
                options: options,
                database: database,
                inProcess: inProcess,
                progress: progress
            )
        }
    }

    static func drive(
        http: HTTPClient,
        baseURL base: String,
        token: String,
        options: Options,
        database: String,
        inProcess: Bool,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let admin = RegistryClient(baseURL: base, token: token, http: http)
        let deviceClient = RegistryClient(baseURL: base, http: http)

        progress("minting \(options.registrations) registration keys")
        let mintStart = DispatchTime.now().uptimeNanoseconds
        let keys = try await concurrently(count: options.registrations, concurrency: options.concurrency) { _ in
            try await admin.mintKey().key
        }
        let mintSeconds = Double(DispatchTime.now().uptimeNanoseconds - mintStart) / 1e9

        progress("registering \(options.registrations) devices, \(options.concurrency) concurrent clients")
        let devices = (0..<options.registrations).map { _ in SimulatedDevice() }
        let bodies = try devices.map { try JSONEncoder().encode($0.registrationBody()) }
        let registerStart = DispatchTime.now().uptimeNanoseconds
        let registrationSamples = try await concurrently(count: options.registrations, concurrency: options.concurrency) { index in
            let start = DispatchTime.now().uptimeNanoseconds
            let reply = try await deviceClient.send(
                .POST,
                "/devices/register",
                headers: [(FireFlyHeader.registrationKey, keys[index]), (FireFlyHeader.contentType, "application/json")],
                body: bodies[index]
            )
            return (DispatchTime.now().uptimeNanoseconds - start, reply.status == 204)
        }
        let registerSeconds = Double(DispatchTime.now().uptimeNanoseconds - registerStart) / 1e9
        var errors = registrationSamples.filter { !$0.1 }.count

        progress("signed registration checks for \(options.duration) s, \(options.concurrency) concurrent clients")
        let signers = try devices.prefix(1_000).map { ($0.uuid, try $0.master.signingKey()) }
        let load = try await InProcessRegistry.timedLoad(seconds: options.duration, concurrency: options.concurrency) { index in
            let (uuid, key) = signers[index % signers.count]
            let path = "/devices/\(DeviceUUID.format(uuid))/registration"
            let headers = try sign(uuid: uuid, key: key, path: path, version: options.signature)
            return try await deviceClient.send(.GET, path, headers: headers).status == 200
        }
        let checkSeconds = load.seconds
        let rss = inProcess ? residentMiB() : nil
        let checks = LatencyHistogram(load.samples)
        errors += load.failures

        if options.opensslSeconds > 0 { progress("openssl speed -seconds \(options.opensslSeconds) ecdsap256") }
        let openssl = options.opensslSeconds > 0 ? OpenSSLSpeed.measure(seconds: options.opensslSeconds) : nil
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let registrations = LatencyHistogram(registrationSamples.map(\.0))
        let checksPerS = Double(checks.count) / checkSeconds
        let location =
            !inProcess
            ? "server \(database)"
            : database.hasPrefix("sqlite:") ? "sqlite" : database.split(separator: "@").last.map(String.init) ?? database
        return Result(
            registrationsPerS: Double(options.registrations) / registerSeconds,
            registrationP50Ms: registrations.milliseconds(0.5),
            registrationP90Ms: registrations.milliseconds(0.9),
            registrationP99Ms: registrations.milliseconds(0.99),
            keysMintedPerS: Double(options.registrations) / mintSeconds,
            checksPerS: checksPerS,
            checkP50Ms: checks.milliseconds(0.5),
            checkP90Ms: checks.milliseconds(0.9),
            checkP99Ms: checks.milliseconds(0.99),
            checkMaxMs: checks.milliseconds(1),
            errors: errors,
            serverRssMib: rss,
            opensslVerifyPerS: openssl?.verifyPerSecond,
            cores: cores,
            checkRatioToOpensslLimit: openssl.map { checksPerS / ($0.verifyPerSecond * Double(cores)) },
            concurrency: options.concurrency,
            signature: "v\(options.signature.rawValue)",
            database: location
        )
    }

    /// Signature headers from a prepared key (the load generator keeps keys to spare the server's CPU).
    static func sign(
        uuid: UUID,
        key: P256.Signing.PrivateKey,
        path: String,
        version: SignatureVersion,
        method: String = "GET",
        body: Data = Data()
    ) throws -> [(String, String)] {
        let now = DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
        return try RequestSigner.sign(key: key, uuid: uuid, version: version, method: method, path: path, body: body, at: now).fields
            .map { ($0.name, $0.value) }
    }

    /// Runs `body(0..<count)` with at most `concurrency` in flight; results in index order.
    static func concurrently<T: Sendable>(count: Int, concurrency: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: count)
            var next = 0
            while next < min(concurrency, count) {
                let index = next
                group.addTask { (index, try await body(index)) }
                next += 1
            }
            while let (index, value) = try await group.next() {
                results[index] = value
                if next < count {
                    let index = next
                    group.addTask { (index, try await body(index)) }
                    next += 1
                }
            }
            return results.compactMap { $0 }
        }
    }
}
