import Foundation

extension BenchAll {
    /// One line of the table: a figure, and its physical anchor on this machine where there is one.
    public struct Figure: Codable, Sendable {
        public var name: String
        public var value: Double
        public var unit: String
        public var anchor: String?
        public var anchorValue: Double?
        public var ratio: Double?
        public var goal: String?

        enum CodingKeys: String, CodingKey {
            case name
            case value
            case unit
            case anchor
            case anchorValue = "anchor_value"
            case ratio
            case goal
        }
    }

    /// One point of the latency-vs-concurrency curves.
    public struct CurvePoint: Codable, Sendable {
        public var concurrency: Int
        public var checkP50Ms, checkP90Ms, checkP99Ms: Double
        public var registrationP50Ms, registrationP90Ms, registrationP99Ms: Double
        public var checksPerS, registrationsPerS: Double

        enum CodingKeys: String, CodingKey {
            case concurrency
            case checkP50Ms = "check_p50_ms"
            case checkP90Ms = "check_p90_ms"
            case checkP99Ms = "check_p99_ms"
            case registrationP50Ms = "registration_p50_ms"
            case registrationP90Ms = "registration_p90_ms"
            case registrationP99Ms = "registration_p99_ms"
            case checksPerS = "checks_per_s"
            case registrationsPerS = "registrations_per_s"
        }
    }

    public struct Results: Codable, Sendable {
        public var date: String
        public var cores: Int
        public var cpu: String
        public var fsync4KiBPerS: Double
        public var crypto: CryptoBenchmark.Result
        public var registrySQLite: RegistryBenchmark.Result
        public var registryPostgres: RegistryBenchmark.Result?
        public var lifecycle: LifecycleBenchmark.Result
        public var backup: BackupBenchmark.Result
        public var device: DeviceBenchmark.Result
        /// The wrk runs against `ember serve` alone; `serverLoadSkipped` says why there are none.
        public var serverLoad: [ServerLoadBenchmark.Result]
        public var serverLoadSkipped: String?
        public var fleet: FleetBenchmark.Result?
        public var curve: [CurvePoint]?
        public var figures: [Figure]

        enum CodingKeys: String, CodingKey {
            case date
            case cores
            case cpu
            case fsync4KiBPerS = "fsync_4kib_per_s"
            case crypto
            case registrySQLite = "registry_sqlite"
            case registryPostgres = "registry_postgres"
            case lifecycle
            case backup
            case device
            case serverLoad = "server_load"
            case serverLoadSkipped = "server_load_skipped"
            case fleet
            case curve
            case figures
        }

        /// The Markdown table of `results.md`.
        public var markdown: String {
            func f(_ value: Double) -> String {
                value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
            }
            var lines = [
                "# Ember benchmarks — \(date)", "", "\(cores) cores, \(cpu). Produced by `ember bench all`; raw figures in `results.json`.", "",
                "| figure | value | physical anchor (same run) | ratio | goal |", "|---|---|---|---|---|",
            ]
            for figure in figures {
                let anchor = figure.anchor.map { name in figure.anchorValue.map { "\(name): \(f($0))" } ?? name } ?? ""
                lines.append(
                    "| \(figure.name) | \(f(figure.value)) \(figure.unit) | \(anchor) | \(figure.ratio.map { String(format: "%.2f", $0) } ?? "") | \(figure.goal ?? "") |"
                )
            }
            if let serverLoadSkipped { lines += ["", "Server-alone figures not measured: \(serverLoadSkipped)."] }
            if let curve {
                lines += [
                    "", "## Latency vs. concurrency (SQLite, in process)", "", "![latency](latency.svg)", "",
                    "| concurrency | checks/s | check p50 / p90 / p99 ms | registrations/s | registration p50 / p90 / p99 ms |",
                    "|---|---|---|---|---|",
                ]
                for point in curve {
                    lines.append(
                        "| \(point.concurrency) | \(f(point.checksPerS)) | \(f(point.checkP50Ms)) / \(f(point.checkP90Ms)) / \(f(point.checkP99Ms)) | \(f(point.registrationsPerS)) | \(f(point.registrationP50Ms)) / \(f(point.registrationP90Ms)) / \(f(point.registrationP99Ms)) |"
                    )
                }
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
