import AsyncHTTPClient
import EmberClient
import EmberCore
import Foundation
import NIOHTTP1
import Synchronization

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
        /// The devices' wall clock, in epoch seconds (signatures are stamped with it).
        public var epochSeconds: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        /// Local addresses the workers send from, in turn (`SourceAddresses`); empty: the system's choice.
        public var sourceAddresses: [String] = []

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
            case devices
            case concurrency
            case durationS = "duration_s"
            case signature
            case requests
            case requestsPerS = "requests_per_s"
            case p50Ms = "p50_ms"
            case p90Ms = "p90_ms"
            case p99Ms = "p99_ms"
            case maxMs = "max_ms"
            case statusCounts = "status_counts"
            case errors
            case errorsByKind = "errors_by_kind"
            case backupKB = "backup_kb"
            case devicesBooted = "devices_booted"
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
            return await runWorkers(concurrency: options.concurrency, tally: tally, total: nil, progress: progress) { worker in
                let client = client.sending(from: SourceAddresses.address(options.sourceAddresses, worker: worker))
                while !stop.isStopped {
                    // Until the time is up, and every device has booted at least once.
                    let index: Int? = next.withLock { value in
                        guard ContinuousClock.now < deadline || value < fleet.count else { return nil }
                        defer { value += 1 }
                        return value
                    }
                    guard let index else { return }
                    let device = fleet.device(index % fleet.count)
                    await boot(device, client: client, options: options, backup: backup, tally: tally)
                }
            }
        }
        let histogram = tally.histogram
        let (done, failed) = tally.counts
        let booted = min(next.withLock { $0 }, fleet.count)
        return Result(
            devices: fleet.count,
            concurrency: options.concurrency,
            durationS: seconds,
            signature: "v\(options.signature.rawValue)",
            requests: done + failed,
            requestsPerS: Double(done + failed) / max(seconds, 1e-9),
            p50Ms: histogram.milliseconds(0.5),
            p90Ms: histogram.milliseconds(0.9),
            p99Ms: histogram.milliseconds(0.99),
            maxMs: histogram.milliseconds(1),
            statusCounts: tally.statuses,
            errors: failed,
            errorsByKind: tally.errors,
            backupKB: options.backupKB,
            devicesBooted: booted
        )
    }

    /// One device's boot: the signed registration check, then (optionally) an encrypted backup. The signing key is
    /// derived for each request and dropped with it.
    static func boot(_ device: SimulatedDevice, client: RegistryClient, options: Options, backup: Data?, tally: FleetTally) async {
        let signature = options.signature
        let uuid = DeviceUUID.format(device.uuid)
        await request(tally) {
            let path = "/devices/\(uuid)/registration"
            let headers = try device.sign(method: "GET", path: path, version: signature, at: DeviceTimestamp(epochSeconds: options.epochSeconds()))
            return try await client.send(.GET, path, headers: headers.fields.map { ($0.name, $0.value) }).status
        }
        guard let backup else { return }
        await request(tally) {
            let path = "/devices/\(uuid)/backup"
            let blob = try FFCEContainer.seal(backup, using: device.master.derive(.backup))
            let headers = try device.sign(
                method: "POST",
                path: path,
                body: blob,
                version: signature,
                at: DeviceTimestamp(epochSeconds: options.epochSeconds())
            )
            return try await client.send(
                .POST,
                path,
                headers: headers.fields.map { ($0.name, $0.value) } + [(FireFlyHeader.contentType, "application/octet-stream")],
                body: blob
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
