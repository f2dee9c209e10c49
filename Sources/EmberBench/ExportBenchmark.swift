import AsyncHTTPClient
import EmberClient
import EmberCore
import EmberFleet
import EmberSystem
import Foundation
import NIOCore
import NIOFoundationCompat
import Synchronization

/// `ember bench export`: the manufacturing-record export of a large fleet through a real `ember serve` — its speed, the
/// server's memory while it streams, and the CSV checked by Python's `csv` module.
public enum ExportBenchmark {
    public struct Options: Sendable {
        public var devices = 100_000
        public var concurrency = 32
        public var binary: URL
        public init(binary: URL) { self.binary = binary }
    }

    public struct Result: Codable, Sendable {
        public var devices: Int
        public var provisionSeconds: Double
        public var provisionErrors: Int
        public var exportSeconds: Double
        public var rowsPerS: Double
        public var exportMiB: Double
        public var serverIdleRssMiB: Double
        public var serverPeakRssMiB: Double
        public var rssGrowthMiB: Double
        /// What Python's `csv` module read: the data rows, distinct UUIDs, whether the header matched.
        public var pythonRows: Int?
        public var pythonDistinctUUIDs: Int?
        public var pythonHeaderMatches: Bool?
        public var jsonlSeconds: Double
        public var jsonlLines: Int

        enum CodingKeys: String, CodingKey {
            case devices
            case provisionSeconds = "provision_s"
            case provisionErrors = "provision_errors"
            case exportSeconds = "export_s"
            case rowsPerS = "rows_per_s"
            case exportMiB = "export_mib"
            case serverIdleRssMiB = "server_idle_rss_mib"
            case serverPeakRssMiB = "server_peak_rss_mib"
            case rssGrowthMiB = "rss_growth_mib"
            case pythonRows = "python_rows"
            case pythonDistinctUUIDs = "python_distinct_uuids"
            case pythonHeaderMatches = "python_header_matches"
            case jsonlSeconds = "jsonl_s"
            case jsonlLines = "jsonl_lines"
        }

        /// One row per device, every UUID once, the header first, and the server's growth under 32 MiB.
        public var passed: Bool {
            pythonRows == devices && pythonDistinctUUIDs == devices && pythonHeaderMatches == true && jsonlLines == devices
                && rssGrowthMiB < 32 && provisionErrors == 0
        }

        public var table: String {
            func f(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
            return """
                ember bench export — \(devices) devices, `ember serve` on SQLite, client on the same machine
                figure                                  value
                provisioning (key + registration)       \(f(provisionSeconds, 1)) s, \(provisionErrors) errors
                CSV export                              \(f(exportSeconds, 2)) s, \(f(rowsPerS)) rows/s, \(f(exportMiB, 1)) MiB
                JSON lines export                       \(f(jsonlSeconds, 2)) s, \(jsonlLines) lines
                server RSS idle → peak during exports   \(f(serverIdleRssMiB, 1)) → \(f(serverPeakRssMiB, 1)) MiB
                server RSS growth                       \(f(rssGrowthMiB, 1)) MiB   (goal < 32)
                Python csv: rows, distinct UUIDs        \(pythonRows.map(String.init) ?? "n/a"), \(pythonDistinctUUIDs.map(String.init) ?? "n/a")   (header \(pythonHeaderMatches.map { $0 ? "matches" : "DIFFERS" } ?? "n/a"))
                verdict                                 \(passed ? "pass" : "FAIL")
                """
        }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-bench-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let token = "bench-export-\(UUID().uuidString)"
        progress("starting ember serve")
        let server = try await ServeProcess.start(binary: options.binary, folder: folder, token: token)
        defer { server.stop() }

        progress("provisioning \(options.devices) devices, \(options.concurrency) at a time")
        let provisioning = FleetProvisioning.Options(
            server: server.baseURL,
            token: token,
            devices: options.devices,
            concurrency: options.concurrency,
            out: folder.appendingPathComponent("fleet.jsonl").path,
            products: [ProductHex(0x0806_2305), ProductHex(0x0807_2504)]
        )
        let provisioned = try await FleetProvisioning.run(provisioning, stop: StopSignal()) { step in
            if step.done % 10_000 == 0 && step.done > 0 { progress("\(step.done) provisioned") }
        }

        try await Task.sleep(for: .milliseconds(500))
        let idle = residentMiB(pid: server.pid) ?? 0
        let peak = Mutex(idle)
        let sampler = Task {
            while !Task.isCancelled {
                if let now = residentMiB(pid: server.pid) { peak.withLock { $0 = max($0, now) } }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        let admin = RegistryClient(baseURL: server.baseURL, token: token)

        progress("exporting CSV")
        let csv = folder.appendingPathComponent("devices.csv")
        let started = ContinuousClock.now
        let bytes = try await stream(admin, format: .csv, to: csv)
        let exportSeconds = (ContinuousClock.now - started) / .seconds(1)
        progress("exporting JSON lines")
        let jsonl = folder.appendingPathComponent("devices.jsonl")
        let jsonlStarted = ContinuousClock.now
        _ = try await stream(admin, format: .jsonl, to: jsonl)
        let jsonlSeconds = (ContinuousClock.now - jsonlStarted) / .seconds(1)
        sampler.cancel()
        _ = await sampler.result
        let highest = peak.withLock { $0 }

        progress("reading the CSV with Python's csv module")
        let python = pythonCheck(csv)
        let lines = try String(contentsOf: jsonl, encoding: .utf8).split(separator: "\n").count
        return Result(
            devices: options.devices,
            provisionSeconds: provisioned.seconds,
            provisionErrors: provisioned.failed,
            exportSeconds: exportSeconds,
            rowsPerS: Double(options.devices) / exportSeconds,
            exportMiB: Double(bytes) / 1_048_576,
            serverIdleRssMiB: idle,
            serverPeakRssMiB: highest,
            rssGrowthMiB: max(0, highest - idle),
            pythonRows: python?.rows,
            pythonDistinctUUIDs: python?.distinct,
            pythonHeaderMatches: python?.header,
            jsonlSeconds: jsonlSeconds,
            jsonlLines: lines
        )
    }

    /// Streams an export to `file`; returns its size.
    static func stream(_ admin: RegistryClient, format: ManufacturingExport.Format, to file: URL) async throws -> Int {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw BackupBenchmark.Failure(description: "cannot create \(file.path)")
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var bytes = 0
        try await admin.exportDevices(format: format) { chunk in
            bytes += chunk.readableBytes
            handle.write(Data(buffer: chunk))
        }
        return bytes
    }

    /// Python's reading of the CSV: data rows, distinct UUIDs, whether the header is Ember's; nil without python3.
    static func pythonCheck(_ csv: URL) -> (rows: Int, distinct: Int, header: Bool)? {
        let script = """
            import csv, json, sys
            with open(sys.argv[1], newline="") as f:
                reader = csv.reader(f)
                header = next(reader)
                rows = 0
                uuids = set()
                for row in reader:
                    if len(row) != len(header):
                        sys.exit("row %d has %d fields" % (rows + 2, len(row)))
                    rows += 1
                    uuids.add(row[0])
            print(json.dumps({"rows": rows, "distinct": len(uuids), "header": ",".join(header) == sys.argv[2]}))
            """
        guard let run = ChildProcess.run("python3", ["-c", script, csv.path, ManufacturingExport.columns.joined(separator: ",")]) else {
            return nil
        }
        struct Check: Decodable {
            var rows: Int
            var distinct: Int
            var header: Bool
        }
        guard run.termination == .exited(0), let check = try? JSONDecoder().decode(Check.self, from: Data(run.output.utf8)) else {
            return nil
        }
        return (check.rows, check.distinct, check.header)
    }
}
