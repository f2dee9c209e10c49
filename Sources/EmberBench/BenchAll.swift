import Foundation

/// `ember bench all`: every benchmark in one run, written to `results.json` and `results.md` (and `latency.svg`).
public enum BenchAll {
    public struct Options: Sendable {
        public var out = "bench"
        public var plot = false
        public var quick = false
        /// A PostgreSQL URL for the registry benchmark on PostgreSQL; nil skips it.
        public var postgres: String?
        /// The `ember` binary (the backup and device benchmarks start it).
        public var binary: URL
        /// Devices of the fleet run (provision, then a boot storm of every device); 0 skips it.
        public var fleetDevices: Int?
        /// The repository, whose `Benchmarks/` wrk scripts give the server-alone figures.
        public var repository = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)

        public init(binary: URL) { self.binary = binary }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Results {
        let folder = URL(fileURLWithPath: options.out, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let quick = options.quick

        progress("disk: 4 KiB write + fsync")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ember-bench-all-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let fsync4k = try BackupBenchmark.fsyncWrites(folder: scratch, bytes: 4096, seconds: quick ? 1 : 2)

        progress("crypto")
        let crypto = try CryptoBenchmark.run(seconds: quick ? 0.5 : 2, opensslSeconds: quick ? 1 : 3) { progress("crypto: \($0)") }

        var registryOptions = RegistryBenchmark.Options()
        registryOptions.registrations = quick ? 1_000 : 5_000
        registryOptions.duration = quick ? 3 : 10
        registryOptions.opensslSeconds = 0
        progress("registry on SQLite")
        let sqlite = try await RegistryBenchmark.run(registryOptions) { progress("registry (SQLite): \($0)") }
        var postgres: RegistryBenchmark.Result?
        if let url = options.postgres {
            var pg = registryOptions
            pg.database = url
            progress("registry on PostgreSQL")
            postgres = try await RegistryBenchmark.run(pg) { progress("registry (PostgreSQL): \($0)") }
        }

        progress("lifecycle")
        var lifecycleOptions = LifecycleBenchmark.Options()
        lifecycleOptions.devices = quick ? 300 : 1_000
        lifecycleOptions.duration = quick ? 3 : 10
        lifecycleOptions.decommissions = quick ? 3 : 10
        let lifecycle = try await LifecycleBenchmark.run(lifecycleOptions) { progress("lifecycle: \($0)") }

        progress("backup")
        var backupOptions = BackupBenchmark.Options(binary: options.binary)
        backupOptions.duration = quick ? 3 : 10
        let backup = try await BackupBenchmark.run(backupOptions) { progress("backup: \($0)") }
        progress("device agent")
        let device = try await DeviceBenchmark.run(runs: quick ? 5 : 20, binary: options.binary) { progress("device: \($0)") }

        let server = try await serverFigures(options, progress: progress)

        var curve: [CurvePoint]?
        if options.plot {
            curve = []
            for concurrency in quick ? [1, 8, 64] : [1, 4, 16, 64, 128] {
                progress("latency curve: concurrency \(concurrency)")
                var point = registryOptions
                point.concurrency = concurrency
                point.registrations = min(2_000, max(300, concurrency * 40))
                point.duration = quick ? 1.5 : 4
                let result = try await RegistryBenchmark.run(point) { _ in }
                curve?.append(
                    CurvePoint(
                        concurrency: concurrency,
                        checkP50Ms: result.checkP50Ms,
                        checkP90Ms: result.checkP90Ms,
                        checkP99Ms: result.checkP99Ms,
                        registrationP50Ms: result.registrationP50Ms,
                        registrationP90Ms: result.registrationP90Ms,
                        registrationP99Ms: result.registrationP99Ms,
                        checksPerS: result.checksPerS,
                        registrationsPerS: result.registrationsPerS
                    )
                )
            }
        }

        let cores = ProcessInfo.processInfo.activeProcessorCount
        let verifyLimit = crypto.opensslVerifyPerS.map { $0 * Double(cores) }
        var figures = [
            Figure(
                name: "ECDSA P-256 verify (1 core)",
                value: crypto.verifyPerS,
                unit: "/s",
                anchor: "openssl verify/s",
                anchorValue: crypto.opensslVerifyPerS,
                ratio: crypto.verifyRatioToOpenssl,
                goal: "ratio ≥ 0.8"
            ),
            Figure(
                name: "ECDSA P-256 sign (1 core)",
                value: crypto.signPerS,
                unit: "/s",
                anchor: "openssl sign/s",
                anchorValue: crypto.opensslSignPerS,
                ratio: crypto.signRatioToOpenssl
            ),
            Figure(name: "device sign: HKDF + key + sign (1 core)", value: crypto.deviceSignPerS, unit: "/s"),
            Figure(
                name: "FFCE seal 512 KiB (1 core)",
                value: backup.sealMBPerS,
                unit: "MB/s",
                anchor: "openssl AES-256-GCM MB/s",
                anchorValue: backup.opensslAESGCMMBPerS,
                ratio: backup.sealRatioToOpenssl
            ),
            Figure(
                name: "FFCE open 512 KiB (1 core)",
                value: backup.openMBPerS,
                unit: "MB/s",
                anchor: "openssl AES-256-GCM MB/s",
                anchorValue: backup.opensslAESGCMMBPerS,
                ratio: backup.opensslAESGCMMBPerS.map { backup.openMBPerS / $0 }
            ),
            Figure(
                name: "registrations, SQLite",
                value: sqlite.registrationsPerS,
                unit: "/s",
                anchor: "4 KiB write+fsync/s",
                anchorValue: fsync4k,
                ratio: sqlite.registrationsPerS / fsync4k,
                goal: "≥ 2500"
            ),
            Figure(
                name: "signed checks, SQLite (client in process)",
                value: sqlite.checksPerS,
                unit: "/s",
                anchor: "openssl verify/s × \(cores) cores",
                anchorValue: verifyLimit,
                ratio: verifyLimit.map { sqlite.checksPerS / $0 },
                goal: "≥ 7000"
            ),
            Figure(name: "signed check p99, SQLite", value: sqlite.checkP99Ms, unit: "ms", goal: "< 20"),
        ]
        figures += server.figures
        if let postgres {
            figures += [
                Figure(name: "registrations, PostgreSQL", value: postgres.registrationsPerS, unit: "/s", goal: "≥ 1500"),
                Figure(
                    name: "signed checks, PostgreSQL",
                    value: postgres.checksPerS,
                    unit: "/s",
                    anchor: "openssl verify/s × \(cores) cores",
                    anchorValue: verifyLimit,
                    ratio: verifyLimit.map { postgres.checksPerS / $0 },
                    goal: "≥ 5000"
                ),
            ]
        }
        figures += [
            Figure(
                name: "idle check-ins, SQLite (client in process)",
                value: lifecycle.checkInsPerS,
                unit: "/s",
                anchor: "signed checks/s, same run",
                anchorValue: lifecycle.checksPerS,
                ratio: lifecycle.checkInRatioToChecks,
                goal: "ratio ≥ 0.8"
            ),
            Figure(
                name: "delivering check-in → factory state (max)",
                value: lifecycle.decommissionMaxMs,
                unit: "ms",
                goal: "< 2000"
            ),
            Figure(
                name: "backup uploads, 512 KiB, SQLite",
                value: backup.uploadsPerS,
                unit: "/s",
                anchor: "512 KiB write+fsync/s",
                anchorValue: backup.fsyncWritesPerS,
                ratio: backup.uploadRatioToFsync,
                goal: "≥ 200"
            ),
            Figure(name: "backup restores, 512 KiB", value: backup.restoresPerS, unit: "/s"),
            Figure(name: "server RSS growth, 32 uploads at once", value: backup.rssGrowthMiB, unit: "MiB", goal: "< 64"),
            Figure(
                name: "device agent start → HTTP ready (median)",
                value: device.readyMsMedian,
                unit: "ms",
                anchor: "spawn /bin/true ms",
                anchorValue: device.spawnFloorMsMedian,
                ratio: device.readyMsMedian / max(device.spawnFloorMsMedian, 1e-9),
                goal: "< 300"
            ),
            Figure(name: "device agent RSS after boot (median)", value: device.rssMiBMedian, unit: "MiB", goal: "< 40"),
        ]

        let cpu =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }?.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let date = ISO8601DateFormatter().string(from: Date())
        let results = Results(
            date: date,
            cores: cores,
            cpu: cpu,
            fsync4KiBPerS: fsync4k,
            crypto: crypto,
            registrySQLite: sqlite,
            registryPostgres: postgres,
            lifecycle: lifecycle,
            backup: backup,
            device: device,
            serverLoad: server.runs,
            serverLoadSkipped: server.skipped,
            fleet: server.fleet,
            curve: curve,
            figures: figures
        )

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(results).write(to: folder.appendingPathComponent("results.json"))
        try Data(results.markdown.utf8).write(to: folder.appendingPathComponent("results.md"))
        if let curve {
            let chart = SVGChart(
                title: "Ember on SQLite: latency vs. concurrency (\(cores) cores, client in process)",
                xLabel: "concurrent clients",
                yLabel: "latency (ms)",
                series: [
                    .init(name: "check p50", color: "#1f77b4", points: curve.map { (Double($0.concurrency), $0.checkP50Ms) }),
                    .init(name: "check p90", color: "#2ca02c", points: curve.map { (Double($0.concurrency), $0.checkP90Ms) }),
                    .init(name: "check p99", color: "#d62728", points: curve.map { (Double($0.concurrency), $0.checkP99Ms) }),
                    .init(
                        name: "registration p50",
                        color: "#1f77b4",
                        dashed: true,
                        points: curve.map { (Double($0.concurrency), $0.registrationP50Ms) }
                    ),
                    .init(
                        name: "registration p90",
                        color: "#2ca02c",
                        dashed: true,
                        points: curve.map { (Double($0.concurrency), $0.registrationP90Ms) }
                    ),
                    .init(
                        name: "registration p99",
                        color: "#d62728",
                        dashed: true,
                        points: curve.map { (Double($0.concurrency), $0.registrationP99Ms) }
                    ),
                ]
            )
            try Data(chart.svg.utf8).write(to: folder.appendingPathComponent("latency.svg"))
        }
        return results
    }
}
