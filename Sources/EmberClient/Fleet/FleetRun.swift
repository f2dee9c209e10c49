import AsyncHTTPClient
import EmberCore
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Set from a signal handler (Ctrl-C) or a test: workers finish what they have in flight and stop.
public final class StopSignal: Sendable {
    private let stopped = Mutex(false)
    public init() {}
    public func stop() { stopped.withLock { $0 = true } }
    public var isStopped: Bool { stopped.withLock { $0 } }
}

/// Where a long fleet run stands, for a progress bar.
public struct FleetProgress: Sendable {
    public var done: Int
    public var failed: Int
    /// Nil for runs bounded by time.
    public var total: Int?
    public var elapsedSeconds: Double
}

/// Counts shared by a run's workers.
final class FleetTally: Sendable {
    private struct State {
        var done = 0
        var failed = 0
        var errors: [String: Int] = [:]
        var statuses: [String: Int] = [:]
        var histogram = LatencyHistogram()
    }

    private let state = Mutex(State())

    func success(status: Int, nanoseconds: UInt64) {
        state.withLock {
            $0.done += 1
            $0.statuses[String(status), default: 0] += 1
            $0.histogram.record(nanoseconds)
        }
    }

    func failure(_ kind: String, status: Int? = nil, nanoseconds: UInt64? = nil) {
        state.withLock {
            $0.failed += 1
            $0.errors[kind, default: 0] += 1
            if let status { $0.statuses[String(status), default: 0] += 1 }
            if let nanoseconds { $0.histogram.record(nanoseconds) }
        }
    }

    var counts: (done: Int, failed: Int) { state.withLock { ($0.done, $0.failed) } }
    var errors: [String: Int] { state.withLock { $0.errors } }
    var statuses: [String: Int] { state.withLock { $0.statuses } }
    var histogram: LatencyHistogram { state.withLock { $0.histogram } }

    /// The kind of a transport error, for `errors_by_kind`.
    static func kind(of error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timeout" }
            if error == .remoteConnectionClosed { return "connection_closed" }
        }
        if error is NIOConnectionError { return "connect" }
        if "\(error)".lowercased().contains("refused") { return "connect" }
        return "transport"
    }
}

/// Runs `worker` on `concurrency` tasks while reporting progress every half second; returns the elapsed seconds.
func runWorkers(
    concurrency: Int, tally: FleetTally, total: Int?, progress: @escaping @Sendable (FleetProgress) -> Void,
    _ worker: @escaping @Sendable () async -> Void
) async -> Double {
    let start = ContinuousClock.now
    func elapsed() -> Double {
        let time = ContinuousClock.now - start
        return Double(time.components.seconds) + Double(time.components.attoseconds) / 1e18
    }
    await withTaskGroup(of: Void.self) { group in
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let (done, failed) = tally.counts
                progress(FleetProgress(done: done, failed: failed, total: total, elapsedSeconds: elapsed()))
            }
        }
        for _ in 0..<concurrency { group.addTask { await worker() } }
        await group.waitForAll()
        reporter.cancel()
    }
    let seconds = elapsed()
    let (done, failed) = tally.counts
    progress(FleetProgress(done: done, failed: failed, total: total, elapsedSeconds: seconds))
    return seconds
}

/// An HTTP client whose pool holds `concurrency` connections, shut down after `body`.
func withHTTPClient<T>(concurrency: Int, timeoutSeconds: Int64 = 30, _ body: (HTTPClient) async throws -> T) async throws -> T {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
    configuration.timeout = .init(connect: .seconds(10), read: .seconds(timeoutSeconds))
    let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    do {
        let result = try await body(http)
        try await http.shutdown()
        return result
    } catch {
        try? await http.shutdown()
        throw error
    }
}

/// `ember fleet provision`: mints a key per device through the admin API, registers it, appends it to the fleet file.
public enum FleetProvisioning {
    public struct Options: Sendable {
        public var server: String
        public var token: String
        public var devices: Int
        public var concurrency: Int
        public var out: String
        /// Products to draw from (uniformly).
        public var products: [ProductHex]

        public init(server: String, token: String, devices: Int, concurrency: Int, out: String, products: [ProductHex]) {
            self.server = server
            self.token = token
            self.devices = devices
            self.concurrency = concurrency
            self.out = out
            self.products = products
        }
    }

    public struct Result: Codable, Sendable {
        public var requested: Int
        public var registered: Int
        public var failed: Int
        public var seconds: Double
        public var devicesPerS: Double
        /// Latency of one device: key mint + registration.
        public var p50Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
        public var errorsByKind: [String: Int]
        public var stopped: Bool
        public var out: String

        enum CodingKeys: String, CodingKey {
            case requested, registered, failed, seconds, devicesPerS = "devices_per_s", p50Ms = "p50_ms", p99Ms = "p99_ms", maxMs = "max_ms"
            case errorsByKind = "errors_by_kind", stopped, out
        }
    }

    public static func run(_ options: Options, stop: StopSignal, progress: @escaping @Sendable (FleetProgress) -> Void) async throws -> Result {
        let writer = try FleetWriter(path: options.out)
        defer { writer.close() }
        let tally = FleetTally()
        let next = Mutex(0)
        let seconds = try await withHTTPClient(concurrency: options.concurrency) { http in
            let admin = RegistryClient(baseURL: options.server, token: options.token, http: http)
            let devices = RegistryClient(baseURL: options.server, http: http)
            guard try await admin.send(.GET, "/registration-keys").status == 200 else {
                throw FleetError("\(options.server) refused the admin token; pass a token with the operator or admin role")
            }
            return await runWorkers(concurrency: options.concurrency, tally: tally, total: options.devices, progress: progress) {
                while !stop.isStopped {
                    let index: Int = next.withLock { value in
                        defer { value += 1 }
                        return value
                    }
                    guard index < options.devices else { return }
                    let device = SimulatedDevice(productHex: options.products.randomElement() ?? ProductHex(0x0806_2305))
                    let start = DispatchTime.now().uptimeNanoseconds
                    do {
                        let minted = try await admin.send(.POST, "/registration-keys")
                        guard minted.status == 201, let key = try? JSONDecoder().decode(RegistrationKeyCreated.self, from: minted.body).key else {
                            tally.failure("mint_status_\(minted.status)", status: minted.status)
                            continue
                        }
                        let reply = try await devices.register(try device.registrationBody(), key: key)
                        let elapsed = DispatchTime.now().uptimeNanoseconds - start
                        guard reply.status == 204 else {
                            tally.failure("register_status_\(reply.status)", status: reply.status, nanoseconds: elapsed)
                            continue
                        }
                        do {
                            try writer.append(FleetMember(device))
                        } catch {
                            tally.failure("file")
                            stop.stop()
                            continue
                        }
                        tally.success(status: reply.status, nanoseconds: elapsed)
                    } catch {
                        tally.failure(FleetTally.kind(of: error))
                    }
                }
            }
        }
        let histogram = tally.histogram
        let (done, failed) = tally.counts
        return Result(
            requested: options.devices, registered: done, failed: failed, seconds: seconds, devicesPerS: Double(done) / max(seconds, 1e-9),
            p50Ms: histogram.milliseconds(0.5), p99Ms: histogram.milliseconds(0.99), maxMs: histogram.milliseconds(1),
            errorsByKind: tally.errors, stopped: stop.isStopped && done + failed < options.devices, out: options.out)
    }
}

/// `ember fleet boot-storm`: every device of a fleet does its boot-time registration check (and optionally a backup)
/// as fast as `concurrency` allows, for `duration` seconds and at least once per device.
public enum BootStorm {
    public struct Options: Sendable {
        public var server: String
        public var fleet: Fleet
        public var concurrency: Int
        public var duration: Double
        public var signature: SignatureVersion
        /// Also push a backup of this many KiB after each check.
        public var backupKB: Int?

        public init(server: String, fleet: Fleet, concurrency: Int, duration: Double, signature: SignatureVersion, backupKB: Int?) {
            self.server = server
            self.fleet = fleet
            self.concurrency = concurrency
            self.duration = duration
            self.signature = signature
            self.backupKB = backupKB
        }
    }

    public struct Result: Codable, Sendable {
        public var devices: Int
        public var concurrency: Int
        public var durationS: Double
        public var signature: String
        public var requests: Int
        public var requestsPerS: Double
        public var p50Ms: Double
        public var p90Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
        public var statusCounts: [String: Int]
        public var errors: Int
        public var errorsByKind: [String: Int]
        public var backupKB: Int?
        /// Distinct devices that booted at least once.
        public var devicesBooted: Int

        enum CodingKeys: String, CodingKey {
            case devices, concurrency, durationS = "duration_s", signature, requests, requestsPerS = "requests_per_s", p50Ms = "p50_ms"
            case p90Ms = "p90_ms", p99Ms = "p99_ms", maxMs = "max_ms", statusCounts = "status_counts", errors, errorsByKind = "errors_by_kind"
            case backupKB = "backup_kb", devicesBooted = "devices_booted"
        }
    }

    public static func run(_ options: Options, stop: StopSignal, progress: @escaping @Sendable (FleetProgress) -> Void) async throws -> Result {
        let tally = FleetTally()
        let next = Mutex(0)
        let fleet = options.fleet
        let deadline = ContinuousClock.now + .milliseconds(Int(options.duration * 1000))
        let backup = options.backupKB.map { Data(repeating: UInt8(ascii: "x"), count: $0 * 1024) }
        let seconds = try await withHTTPClient(concurrency: options.concurrency) { http in
            let client = RegistryClient(baseURL: options.server, http: http)
            return await runWorkers(concurrency: options.concurrency, tally: tally, total: nil, progress: progress) {
                while !stop.isStopped {
                    // Until the time is up, and every device has booted at least once.
                    let index: Int? = next.withLock { value in
                        guard ContinuousClock.now < deadline || value < fleet.count else { return nil }
                        defer { value += 1 }
                        return value
                    }
                    guard let index else { return }
                    let device = fleet.device(index % fleet.count)
                    await boot(device, client: client, signature: options.signature, backup: backup, tally: tally)
                }
            }
        }
        let histogram = tally.histogram
        let (done, failed) = tally.counts
        let booted = min(next.withLock { $0 }, fleet.count)
        return Result(
            devices: fleet.count, concurrency: options.concurrency, durationS: seconds, signature: "v\(options.signature.rawValue)",
            requests: done + failed, requestsPerS: Double(done + failed) / max(seconds, 1e-9), p50Ms: histogram.milliseconds(0.5),
            p90Ms: histogram.milliseconds(0.9), p99Ms: histogram.milliseconds(0.99), maxMs: histogram.milliseconds(1),
            statusCounts: tally.statuses, errors: failed, errorsByKind: tally.errors, backupKB: options.backupKB, devicesBooted: booted)
    }

    /// One device's boot: the signed registration check, then (optionally) an encrypted backup. The signing key is
    /// derived for each request and dropped with it.
    static func boot(_ device: SimulatedDevice, client: RegistryClient, signature: SignatureVersion, backup: Data?, tally: FleetTally) async {
        let uuid = DeviceUUID.format(device.uuid)
        await request(tally) {
            let path = "/devices/\(uuid)/registration"
            let headers = try device.sign(method: "GET", path: path, version: signature, at: .now)
            return try await client.send(.GET, path, headers: headers.fields.map { ($0.name, $0.value) }).status
        }
        guard let backup else { return }
        await request(tally) {
            let path = "/devices/\(uuid)/backup"
            let blob = try FFCEContainer.seal(backup, using: device.master.derive(.backup))
            let headers = try device.sign(method: "POST", path: path, body: blob, version: signature, at: .now)
            return try await client.send(
                .POST, path, headers: headers.fields.map { ($0.name, $0.value) } + [("Content-Type", "application/octet-stream")], body: blob
            ).status
        }
    }

    static func request(_ tally: FleetTally, _ body: () async throws -> Int) async {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let status = try await body()
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            if status == 200 || status == 304 {
                tally.success(status: status, nanoseconds: elapsed)
            } else {
                tally.failure("status_\(status)", status: status, nanoseconds: elapsed)
            }
        } catch {
            tally.failure(FleetTally.kind(of: error))
        }
    }
}

extension DeviceTimestamp {
    /// The current second.
    public static var now: DeviceTimestamp { DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970)) }
}
