import AsyncHTTPClient
import EmberClient
import EmberCore
import EmberFleet
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
import NIOHTTP1
#endif

/// `ember bench backup`: 512 KiB encrypted backups through the real HTTP path of an `ember serve` process.
public enum BackupBenchmark {
    public struct Options: Sendable {
        public var devices = 32
        public var duration: Double = 10
        public var binary: URL
        public init(binary: URL) { self.binary = binary }
    }

    public struct Result: Codable, Sendable {
        public var devices: Int
        public var backupBytes: Int
        public var uploadsPerS: Double
        public var uploadP99Ms: Double
        public var restoresPerS: Double
        public var restoreP99Ms: Double
        public var sealMBPerS: Double
        public var openMBPerS: Double
        public var opensslAESGCMMBPerS: Double?
        public var sealRatioToOpenssl: Double?
        public var fsyncWritesPerS: Double
        public var uploadRatioToFsync: Double
        public var serverIdleRssMiB: Double
        public var serverPeakRssMiB: Double
        public var rssGrowthMiB: Double
        public var burstUploads: Int
        public var errors: Int

        enum CodingKeys: String, CodingKey {
            case devices
            case backupBytes = "backup_bytes"
            case uploadsPerS = "uploads_per_s"
            case uploadP99Ms = "upload_p99_ms"
            case restoresPerS = "restores_per_s"
            case restoreP99Ms = "restore_p99_ms"
            case sealMBPerS = "seal_mb_per_s"
            case openMBPerS = "open_mb_per_s"
            case opensslAESGCMMBPerS = "openssl_aes_gcm_mb_per_s"
            case sealRatioToOpenssl = "seal_ratio_to_openssl"
            case fsyncWritesPerS = "fsync_writes_per_s"
            case uploadRatioToFsync = "upload_ratio_to_fsync"
            case serverIdleRssMiB = "server_idle_rss_mib"
            case serverPeakRssMiB = "server_peak_rss_mib"
            case rssGrowthMiB = "rss_growth_mib"
            case burstUploads = "burst_uploads"
            case errors
        }

        /// The figures as a table.
        public var table: String {
            func f(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
            return """
                ember bench backup — \(devices) devices, \(backupBytes / 1024) KiB backups, `ember serve` on SQLite, clients on the same machine
                figure                                  value
                uploads/s (seal + sign + POST)          \(f(uploadsPerS))   (p99 \(f(uploadP99Ms, 1)) ms; goal ≥ 200)
                restores/s (signed GET + open)          \(f(restoresPerS))   (p99 \(f(restoreP99Ms, 1)) ms)
                FFCE seal, MB/s (1 core)                \(f(sealMBPerS))   (openssl AES-256-GCM \(opensslAESGCMMBPerS.map { f($0) } ?? "n/a"); ratio \(sealRatioToOpenssl.map { f($0, 2) } ?? "n/a"))
                FFCE open, MB/s (1 core)                \(f(openMBPerS))
                512 KiB write+fsync/s on this disk      \(f(fsyncWritesPerS))   (uploads / that = \(f(uploadRatioToFsync, 2)))
                server RSS idle → peak                  \(f(serverIdleRssMiB, 1)) → \(f(serverPeakRssMiB, 1)) MiB
                RSS growth, \(burstUploads) uploads at once       \(f(rssGrowthMiB, 1)) MiB   (goal < 64)
                errors                                  \(errors)
                """
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    struct Device: Sendable {
        let identity: SimulatedDevice
        let plaintext: Data
        var path: String { "/devices/\(DeviceUUID.format(identity.uuid))/backup" }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-bench-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let size = BackupLimits.maxPlaintext

        progress("FFCE seal/open and openssl AES-256-GCM")
        let sample = Data((0..<size).map { _ in UInt8.random(in: 0...255) })
        let key = MasterKey.random().derive(.backup)
        let sealRate = try measure(seconds: 1, batch: 1) { try FFCEContainer.seal(sample, using: key).count }.perSecond
        let sealed = try FFCEContainer.seal(sample, using: key)
        let openRate = try measure(seconds: 1, batch: 1) { try FFCEContainer.open(sealed, using: key).count }.perSecond
        let openssl = OpenSSLSpeed.aesGCMMegabytesPerSecond(seconds: 2)
        progress("512 KiB write + fsync")
        let fsyncRate = try fsyncWrites(folder: folder, bytes: size, seconds: 2)

        progress("starting ember serve")
        let token = "bench-backup-\(UUID().uuidString)"
        let server = try await ServeProcess.start(binary: options.binary, folder: folder, token: token)
        defer { server.stop() }
        let port = server.port
        let pid = server.pid

        var pool = HTTPClient.Configuration.ember()
        pool.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: options.devices)
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: pool)
        do {
            let figures = try await drive(http: http, port: port, token: token, pid: pid, options: options, size: size, progress: progress)
            let result = figures.finish(sealRate: sealRate, openRate: openRate, openssl: openssl, fsyncRate: fsyncRate)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// The figures measured against the server, before the local anchors are added.
    struct ServerFigures: Sendable {
        var uploads: (count: Int, errors: Int, latencies: [UInt64])
        var restores: (count: Int, errors: Int, latencies: [UInt64])
        var idle: Double
        var peak: Double
        var burstErrors: Int
        var options: Options
        var size: Int

        func finish(sealRate: Double, openRate: Double, openssl: Double?, fsyncRate: Double) -> Result {
            let uploadsPerS = Double(uploads.count) / options.duration
            return Result(
                devices: options.devices,
                backupBytes: size,
                uploadsPerS: uploadsPerS,
                uploadP99Ms: LatencyHistogram(uploads.latencies).milliseconds(0.99),
                restoresPerS: Double(restores.count) / options.duration,
                restoreP99Ms: LatencyHistogram(restores.latencies).milliseconds(0.99),
                sealMBPerS: sealRate * Double(size) / 1e6,
                openMBPerS: openRate * Double(size) / 1e6,
                opensslAESGCMMBPerS: openssl,
                sealRatioToOpenssl: openssl.map { sealRate * Double(size) / 1e6 / $0 },
                fsyncWritesPerS: fsyncRate,
                uploadRatioToFsync: uploadsPerS / fsyncRate,
                serverIdleRssMiB: idle,
                serverPeakRssMiB: peak,
                rssGrowthMiB: max(0, peak - idle),
                burstUploads: options.devices,
                errors: burstErrors + uploads.errors + restores.errors
            )
        }
    }

    static func drive(
        http: HTTPClient,
        port: Int,
        token: String,
        pid: String,
        options: Options,
        size: Int,
        progress: (String) -> Void
    ) async throws -> ServerFigures {
        let base = "http://127.0.0.1:\(port)"
        let admin = RegistryClient(baseURL: base, token: token, http: http)
        let client = RegistryClient(baseURL: base, http: http, timeout: .seconds(60))

        progress("registering \(options.devices) devices")
        var devices: [Device] = []
        for _ in 0..<options.devices {
            let identity = SimulatedDevice()
            let reply = try await client.register(try identity.registrationBody(), key: try await admin.mintKey().key)
            guard reply.status == 204 else { throw Failure(description: "registration failed: \(reply.status) \(reply.message)") }
            var plaintext = Data(#"{"formatName":"dexie","data":""#.utf8)
            plaintext.append(Data(repeating: UInt8(ascii: "x"), count: size - plaintext.count - 3))
            plaintext.append(Data(#""}"#.utf8))
            devices.append(Device(identity: identity, plaintext: plaintext.prefix(size)))
        }
        try await Task.sleep(for: .milliseconds(200))
        let idle = residentMiB(pid: pid) ?? 0

        progress("\(options.devices) devices upload 512 KiB at once, 5 rounds")
        var errors = 0
        let all = devices
        for _ in 0..<5 {
            let statuses = try await RegistryBenchmark.concurrently(count: all.count, concurrency: all.count) { index in
                try await upload(all[index], client: client)
            }
            errors += statuses.filter { $0 != 200 }.count
        }
        let peak = residentMiB(pid: pid, field: "VmHWM:") ?? 0

        progress("uploads for \(options.duration) s")
        let uploads = try await loop(devices: devices, seconds: options.duration) { try await upload($0, client: client) == 200 }
        progress("restores for \(options.duration) s")
        let restores = try await loop(devices: devices, seconds: options.duration) { device in
            let reply = try await client.send(.GET, device.path, headers: try sign(device, method: "GET", body: Data()))
            guard reply.status == 200 else { return false }
            return (try? FFCEContainer.open(reply.body, using: device.identity.master.derive(.backup))) == device.plaintext
        }
        return ServerFigures(uploads: uploads, restores: restores, idle: idle, peak: peak, burstErrors: errors, options: options, size: size)
    }

    static func sign(_ device: Device, method: String, body: Data) throws -> [(String, String)] {
        try device.identity.sign(
            method: method,
            path: device.path,
            body: body,
            at: DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
        ).fields.map { ($0.name, $0.value) }
    }

    /// Seals the device's backup with a fresh nonce and uploads it; returns the status.
    static func upload(_ device: Device, client: RegistryClient) async throws -> Int {
        let blob = try FFCEContainer.seal(device.plaintext, using: device.identity.master.derive(.backup))
        let headers = try sign(device, method: "POST", body: blob) + [("Content-Type", "application/octet-stream")]
        return try await client.send(.POST, device.path, headers: headers, body: blob).status
    }

    /// Every device repeats `body` until `seconds` pass; counts successes, failures and latencies.
    static func loop(
        devices: [Device],
        seconds: Double,
        _ body: @escaping @Sendable (Device) async throws -> Bool
    ) async throws
        -> (count: Int, errors: Int, latencies: [UInt64])
    {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let results = try await RegistryBenchmark.concurrently(count: devices.count, concurrency: devices.count) { index in
            var count = 0
            var errors = 0
            var latencies: [UInt64] = []
            while ContinuousClock.now < end {
                let start = DispatchTime.now().uptimeNanoseconds
                if (try? await body(devices[index])) == true { count += 1 } else { errors += 1 }
                latencies.append(DispatchTime.now().uptimeNanoseconds - start)
            }
            return (count, errors, latencies)
        }
        return (results.map(\.0).reduce(0, +), results.map(\.1).reduce(0, +), results.flatMap(\.2))
    }

    /// Whole-file 512 KiB write + fsync per second in `folder`: what an upload's durable commit cannot beat.
    static func fsyncWrites(folder: URL, bytes: Int, seconds: Double) throws -> Double {
        let path = folder.appendingPathComponent("fsync-probe").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(path)") }
        defer {
            close(fd)
            unlink(path)
        }
        let buffer = [UInt8](repeating: 0x5A, count: bytes)
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let start = ContinuousClock.now
        var count = 0
        while ContinuousClock.now < end {
            guard pwrite(fd, buffer, bytes, 0) == bytes, fsync(fd) == 0 else { throw Failure(description: "write/fsync failed") }
            count += 1
        }
        let elapsed = ContinuousClock.now - start
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
