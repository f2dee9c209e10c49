import EmberCore
import EmberDevice
import EmberFleet
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A whole fleet against an `ember serve` child on SQLite: `ember fleet provision` (keys minted a thousand at a
/// time, each device registered from one of many loopback addresses, as a fleet arrives from many sites), then a
/// boot storm in which every device makes its signed registration check once; the server's peak RSS throughout.
public enum FleetBenchmark {
    public struct Options: Sendable {
        public var devices = 100_000
        public var concurrency = 128
        /// Linux answers on every 127.x.y.z; elsewhere the system's address.
        public var sourceAddresses = ["127.0.0.2-127.0.0.33"]
        public var binary: URL

        public init(binary: URL) { self.binary = binary }
    }

    public struct Result: Codable, Sendable {
        public var devices: Int
        public var provisionSeconds: Double
        public var provisionPerS: Double
        public var provisionErrors: Int
        public var stormSeconds: Double
        public var stormPerS: Double
        public var stormP99Ms: Double
        public var stormErrors: Int
        public var devicesBooted: Int
        public var serverPeakRSSMiB: Double

        enum CodingKeys: String, CodingKey {
            case devices
            case provisionSeconds = "provision_s"
            case provisionPerS = "provision_per_s"
            case provisionErrors = "provision_errors"
            case stormSeconds = "storm_s"
            case stormPerS = "storm_per_s"
            case stormP99Ms = "storm_p99_ms"
            case stormErrors = "storm_errors"
            case devicesBooted = "devices_booted"
            case serverPeakRSSMiB = "server_peak_rss_mib"
        }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-bench-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let token = "bench-fleet-" + UUID().uuidString
        let server = try await ServeProcess.start(binary: options.binary, folder: folder, token: token)
        defer { server.stop() }
        let peak = PeakMemory(pid: server.pid)
        let sampler = Task {
            while !Task.isCancelled {
                peak.sample()
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { sampler.cancel() }
        #if os(Linux)
        let addresses = try SourceAddresses.parse(options.sourceAddresses)
        #else
        let addresses: [String] = []
        #endif

        let out = folder.appendingPathComponent("fleet.jsonl").path
        var provision = FleetProvisioning.Options(
            server: server.baseURL,
            token: token,
            devices: options.devices,
            concurrency: options.concurrency,
            out: out,
            products: ProductCatalog.bundled.products.filter { $0.status == .active }.map(\.productHex)
        )
        provision.sourceAddresses = addresses
        let provisioned = try await FleetProvisioning.run(provision, stop: StopSignal()) { step in
            if Int(step.elapsedSeconds * 2) % 20 == 0 { progress("provisioned \(step.done) of \(options.devices)") }
        }

        // A boot storm comes on a settled registry: flush what provisioning left for the kernel to write back, or
        // every commit's fsync of the storm queues behind it.
        progress("flushing the provisioning's writes (sync)")
        sync()

        var storm = BootStorm.Options(
            server: server.baseURL,
            fleet: try Fleet(path: out),
            concurrency: options.concurrency,
            duration: 0.001,
            signature: .v2,
            backupKB: nil
        )
        storm.sourceAddresses = addresses
        let stormed = try await BootStorm.run(storm, stop: StopSignal()) { step in
            if Int(step.elapsedSeconds * 2) % 20 == 0 { progress("boot storm: \(step.done) checks") }
        }
        peak.sample()
        return Result(
            devices: options.devices,
            provisionSeconds: provisioned.seconds,
            provisionPerS: provisioned.devicesPerS,
            provisionErrors: provisioned.failed + (options.devices - provisioned.registered - provisioned.failed),
            stormSeconds: stormed.durationS,
            stormPerS: stormed.requestsPerS,
            stormP99Ms: stormed.p99Ms,
            stormErrors: stormed.errors,
            devicesBooted: stormed.devicesBooted,
            serverPeakRSSMiB: peak.value
        )
    }
}

/// The highest RSS a process reached among the samples taken.
final class PeakMemory: Sendable {
    let pid: String
    private let peak = Mutex(0.0)

    init(pid: String) { self.pid = pid }

    func sample() {
        guard let now = residentMiB(pid: pid) else { return }
        peak.withLock { $0 = max($0, now) }
    }

    var value: Double { peak.withLock { $0 } }
}
