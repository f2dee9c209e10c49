import AsyncHTTPClient
import Dispatch
import EmberClient
import EmberCloud
import EmberCore
import EmberDevice
import EmberFleet
import Foundation
import Logging
import NIOHTTP1

/// `ember bench lifecycle`: idle check-ins/s beside signed registration checks/s from the same run, and how long a
/// device takes from the check-in that delivers a decommission to its factory state.
public enum LifecycleBenchmark {
    public struct Options: Sendable {
        public var devices = 1_000
        public var duration: Double = 10
        public var concurrency = 64
        /// Decommissions to time (each a fresh simulated board).
        public var decommissions = 10
        public var database: String?

        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var checksPerS: Double
        public var checkInsPerS: Double
        /// Check-ins/s ÷ signed checks/s of the same run (goal ≥ 0.8).
        public var checkInRatioToChecks: Double
        public var checkInP50Ms: Double
        public var checkInP99Ms: Double
        public var decommissionP50Ms: Double
        public var decommissionMaxMs: Double
        public var decommissions: Int
        public var errors: Int
        public var concurrency: Int
        public var database: String

        enum CodingKeys: String, CodingKey {
            case checksPerS = "checks_per_s"
            case checkInsPerS = "check_ins_per_s"
            case checkInRatioToChecks = "check_in_ratio_to_checks"
            case checkInP50Ms = "check_in_p50_ms"
            case checkInP99Ms = "check_in_p99_ms"
            case decommissionP50Ms = "decommission_p50_ms"
            case decommissionMaxMs = "decommission_max_ms"
            case decommissions, errors, concurrency, database
        }

        public var table: String {
            func f(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
            return """
                figure                                   value      anchor (same run)
                signed registration checks/s             \(f(checksPerS).padding(toLength: 10, withPad: " ", startingAt: 0)) -
                idle check-ins/s (\(concurrency) clients)            \(f(checkInsPerS).padding(toLength: 10, withPad: " ", startingAt: 0)) \(f(checkInRatioToChecks, 2)) × signed checks/s (goal ≥ 0.80)
                check-in latency p50 / p99 (ms)          \(f(checkInP50Ms, 2)) / \(f(checkInP99Ms, 2))
                delivering check-in → factory state (ms) p50 \(f(decommissionP50Ms, 1)), max \(f(decommissionMaxMs, 1)) over \(decommissions) boards (goal < 2000)
                errors                                   \(errors)
                database                                 \(database)
                """
        }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Result {
        let measured: @Sendable (String, String, String) async throws -> Result = { baseURL, token, database in
            try await InProcessRegistry.withHTTPClient(concurrency: options.concurrency) { http in
                try await measure(options, baseURL: baseURL, token: token, database: database, http: http, progress: progress)
            }
        }
        return try await InProcessRegistry.serve(database: options.database, configure: { $0.checkInInterval = 10 }, measured)
    }

    private static func measure(
        _ options: Options,
        baseURL: String,
        token: String,
        database: String,
        http: HTTPClient,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let admin = RegistryClient(baseURL: baseURL, token: token, http: http)
        let client = RegistryClient(baseURL: baseURL, http: http)
        progress("registering \(options.devices) devices")
        let devices = (0..<options.devices).map { _ in SimulatedDevice() }
        let registered = try await RegistryBenchmark.concurrently(count: devices.count, concurrency: options.concurrency) { index in
            let key = try await admin.mintKey().key
            let body = try JSONEncoder().encode(devices[index].registrationBody())
            let headers = [(FireFlyHeader.registrationKey, key), (FireFlyHeader.contentType, "application/json")]
            return try await client.send(.POST, "/devices/register", headers: headers, body: body).status == 204
        }
        var errors = registered.filter { !$0 }.count
        let signers = try devices.map { ($0.uuid, try $0.master.signingKey()) }

        progress("signed registration checks for \(options.duration) s")
        let checks = try await InProcessRegistry.timedLoad(seconds: options.duration, concurrency: options.concurrency) { index in
            let (uuid, key) = signers[index % signers.count]
            let path = "/devices/\(DeviceUUID.format(uuid))/registration"
            return try await client.send(.GET, path, headers: try RegistryBenchmark.sign(uuid: uuid, key: key, path: path, version: .v2))
                .status == 200
        }

        progress("idle check-ins for \(options.duration) s")
        let report = try JSONEncoder().encode(
            CheckInReport(firmwareVersion: "0.1.0", configVersion: 1, keyEpoch: 0, state: "operational", uptimeS: 60)
        )
        let checkIns = try await InProcessRegistry.timedLoad(seconds: options.duration, concurrency: options.concurrency) { index in
            let (uuid, key) = signers[index % signers.count]
            let path = "/devices/\(DeviceUUID.format(uuid))/check-in"
            let signature = try RegistryBenchmark.sign(uuid: uuid, key: key, path: path, version: .v2, method: "POST", body: report)
            let reply = try await client.send(.POST, path, headers: signature + [(FireFlyHeader.contentType, "application/json")], body: report)
            return reply.status == 200
        }
        errors += checks.failures + checkIns.failures

        progress("timing \(options.decommissions) decommissions")
        var decommissionSamples: [UInt64] = []
        for _ in 0..<options.decommissions {
            decommissionSamples.append(try await timeDecommission(baseURL: baseURL, admin: admin))
        }
        let checksPerS = Double(checks.samples.count) / checks.seconds
        let checkInsPerS = Double(checkIns.samples.count) / checkIns.seconds
        let checkInLatency = LatencyHistogram(checkIns.samples)
        let decommissionLatency = LatencyHistogram(decommissionSamples)
        return Result(
            checksPerS: checksPerS,
            checkInsPerS: checkInsPerS,
            checkInRatioToChecks: checkInsPerS / max(checksPerS, 1),
            checkInP50Ms: checkInLatency.milliseconds(0.5),
            checkInP99Ms: checkInLatency.milliseconds(0.99),
            decommissionP50Ms: decommissionLatency.milliseconds(0.5),
            decommissionMaxMs: decommissionLatency.milliseconds(1),
            decommissions: decommissionSamples.count,
            errors: errors,
            concurrency: options.concurrency,
            database: database.hasPrefix("sqlite:") ? "sqlite" : database.split(separator: "@").last.map(String.init) ?? database
        )
    }

    /// A fresh simulated board with a running agent, provisioned and registered; the admin queues its decommission;
    /// the time from the check-in that delivers it until the agent runs in the factory state, in nanoseconds.
    private static func timeDecommission(baseURL: String, admin: RegistryClient) async throws -> UInt64 {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-bench-board-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let logger: Logger = {
            var logger = Logger(label: "ember-bench-device")
            logger.logLevel = .critical
            return logger
        }()
        try SimulatedBoard.create(product: try ProductCatalog.bundled.product(named: "FFC0806-2305"), in: folder)
        var configuration = AgentConfiguration()
        configuration.cloudURL = baseURL
        configuration.checkInInterval = 3_600
        let agent = try DeviceAgent(configuration: configuration, logger: logger) { try SimulatedBoard.open(folder, logger: logger) }
        try await agent.boot()
        let elapsed = try await withThrowingTaskGroup(of: UInt64?.self) { group in
            group.addTask {
                try await DeviceAgentService(agent: agent).run()
                return nil
            }
            defer { group.cancelAll() }
            try await waitFor { await agent.clockSynchronized }
            let uuid = UUID()
            try await agent.provision(IdentityRequest(uuid: DeviceUUID.format(uuid), productID: "FFC0806-2305", productHex: "0x08062305"))
            try await agent.register(key: try await admin.mintKey().key, url: nil)
            _ = try await admin.queueAction(DeviceUUID.format(uuid), .decommission, reason: "benchmark")
            let start = DispatchTime.now().uptimeNanoseconds
            guard await agent.checkInNow() else { throw CryptoBenchmark.Failure(description: "the check-in failed") }
            try await waitFor { await agent.decommissioned }
            return DispatchTime.now().uptimeNanoseconds - start
        }
        return elapsed
    }

    private static func waitFor(_ condition: @Sendable () async -> Bool) async throws {
        let deadline = DispatchTime.now().uptimeNanoseconds + 30_000_000_000
        while await !condition() {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { throw CryptoBenchmark.Failure(description: "timed out after 30 s") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
