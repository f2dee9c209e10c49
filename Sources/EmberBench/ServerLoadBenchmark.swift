import EmberSystem
import Foundation

/// The server-alone figures: the repository's wrk scripts (`Benchmarks/signed-checks-wrk.sh`,
/// `Benchmarks/registrations-wrk.sh`) against an `ember serve` child, so the load generator spends none of the
/// server's work on signing or an HTTP client. Needs wrk, Python's `cryptography` and the `Benchmarks/` folder.
public enum ServerLoadBenchmark {
    /// One wrk run as its script printed it.
    public struct Result: Codable, Sendable {
        public var script: String
        public var database: String
        public var connections: Int
        public var requestsPerS: Double
        public var p50Ms: Double
        public var p99Ms: Double
        /// Answers that were not 2xx/3xx, plus wrk's socket errors and timeouts.
        public var errors: Int
        public var serverRSSMiB: Double?
        /// The script's same-run anchor: openssl verify/s on every core (checks) or 4 KiB write+fsync/s (registrations).
        public var anchor: String?
        public var anchorValue: Double?

        enum CodingKeys: String, CodingKey {
            case script, database, connections, errors, anchor
            case requestsPerS = "requests_per_s"
            case p50Ms = "p50_ms"
            case p99Ms = "p99_ms"
            case serverRSSMiB = "server_rss_mib"
            case anchorValue = "anchor_value"
        }
    }

    /// Why the figures were not measured, or nil when they can be: the scripts and wrk must be there.
    public static func unavailable(repository: URL) -> String? {
        guard FileManager.default.fileExists(atPath: repository.appendingPathComponent("Benchmarks/signed-checks-wrk.sh").path) else {
            return "no Benchmarks/ folder in \(repository.path) (run from the repository)"
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard path.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/wrk") }) else {
            return "wrk is not installed (apt-get install wrk)"
        }
        return nil
    }

    /// Runs `script` (`signed-checks-wrk.sh` or `registrations-wrk.sh`) for `seconds` with `connections`, the server
    /// being `binary` on `database` (nil: a throwaway SQLite file); `environment` adds to the script's.
    public static func run(
        script scriptName: String,
        repository: URL,
        binary: URL,
        seconds: Int,
        connections: Int,
        database: String? = nil,
        environment: [String: String] = [:]
    ) throws -> Result {
        var variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        variables["EMBER_BINARY"] = binary.path
        if let database { variables["EMBER_BENCH_DATABASE"] = database }
        let script = repository.appendingPathComponent("Benchmarks/\(scriptName)").path
        let run = ChildProcess.run("/bin/bash", [script, String(seconds), String(connections)], environment: variables, mergingErrors: true)
        guard let run, run.termination == .exited(0), let result = parse(run.output, script: scriptName, connections: connections) else {
            throw BackupBenchmark.Failure(
                description: "\(scriptName) failed (exit \(run?.termination.status ?? -1)): \(run?.output.suffix(600) ?? "")"
            )
        }
        var parsed = result
        parsed.database = database.map { $0.hasPrefix("postgres") ? "postgresql" : $0 } ?? "sqlite"
        return parsed
    }

    /// The figures of a script's output; nil when wrk's summary is missing.
    static func parse(_ text: String, script: String, connections: Int) -> Result? {
        func number(after label: String) -> Double? {
            guard let range = text.range(of: label) else { return nil }
            let rest = text[range.upperBound...].drop { $0 == " " }
            return Double(rest.prefix { $0.isNumber || $0 == "." })
        }
        guard let rate = number(after: "Requests/sec:"), let p50 = number(after: "p50 "), let p99 = number(after: "p99 ") else { return nil }
        let refused = number(after: "non2xx/3xx ") ?? 0
        // wrk's "Socket errors: connect 0, read 0, write 0, timeout 0".
        let socket = ["connect ", "read ", "write ", "timeout "].compactMap { label -> Double? in
            guard let line = text.split(separator: "\n").first(where: { $0.contains("Socket errors") }) else { return nil }
            guard let range = line.range(of: label) else { return nil }
            return Double(line[range.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
        let anchor: (String, Double?) =
            script.hasPrefix("signed-checks")
            ? ("openssl verify/s × \(ProcessInfo.processInfo.activeProcessorCount) cores", number(after: "cores = "))
            : ("4 KiB write+fsync/s", number(after: "(same disk): "))
        return Result(
            script: script,
            database: "sqlite",
            connections: connections,
            requestsPerS: rate,
            p50Ms: p50,
            p99Ms: p99,
            errors: Int(refused + socket),
            serverRSSMiB: number(after: "server RSS: "),
            anchor: anchor.0,
            anchorValue: anchor.1
        )
    }
}
