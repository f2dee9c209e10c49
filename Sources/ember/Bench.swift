import ArgumentParser
import EmberBench
import EmberCore
import Foundation

/// `ember bench …`: measured figures, each beside its physical anchor on this machine.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Ember's speed on this machine.",
        subcommands: [All.self, Crypto.self, Registry.self, Enroll.self, Lifecycle.self, Device.self, Backup.self, Export.self]
    )

    struct Crypto: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign/verify, HKDF and FFCE rates, single core, with the ratio to `openssl speed ecdsap256`."
        )

        @Option(help: "Seconds to measure each figure.")
        var seconds: Double = 2

        @Option(help: "Seconds openssl measures sign and verify for.")
        var opensslSeconds: Int = 3

        @Flag(help: "Print one JSON object instead of the table.")
        var json = false

        func validate() throws {
            guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be between 0 and 600") }
            guard opensslSeconds >= 1, opensslSeconds <= 600 else { throw ValidationError("--openssl-seconds must be between 1 and 600") }
        }

        func run() async throws {
            let result = try CryptoBenchmark.run(seconds: seconds, opensslSeconds: opensslSeconds) { step in
                if !json { FileHandle.standardError.write(Data("measuring \(step)…\n".utf8)) }
            }
            if json {
                print(try JSONOutput.encode(result))
            } else {
                print(result.table)
            }
        }
    }

    struct Registry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Registrations/s and signed checks/s against an in-process registry on loopback.",
            discussion: "Client and server share this machine's cores; the ratio compares checks/s with openssl's verify/s × cores."
        )

        @Option(help: "Registrations to make (each with a fresh key).") var registrations = 5_000
        @Option(help: "Seconds of signed registration checks.") var duration: Double = 10
        @Option(help: "Concurrent clients.") var concurrency = 64
        @Option(help: "Signature version of the checks: v1 (FireFly) or v2.") var signature: SignatureVersion = .v2
        @Option(help: "Database URL (default: a throwaway SQLite file).") var database: String?
        @Option(help: "Drive this running registry (e.g. a cluster behind nginx) instead of an in-process one.") var server: String?
        @Option(help: "Admin token of --server. [env: EMBER_TOKEN]") var token: String?
        @Flag(help: "Print one JSON object instead of the table.") var json = false

        func validate() throws {
            guard (1...1_000_000).contains(registrations) else { throw ValidationError("--registrations must be 1…1000000") }
            guard duration > 0, duration <= 3_600 else { throw ValidationError("--duration must be between 0 and 3600 seconds") }
            guard (1...4_096).contains(concurrency) else { throw ValidationError("--concurrency must be 1…4096") }
            guard server == nil || database == nil else { throw ValidationError("--server and --database exclude each other") }
        }

        func run() async throws {
            var options = RegistryBenchmark.Options()
            options.registrations = registrations
            options.duration = duration
            options.concurrency = concurrency
            options.signature = signature
            options.database = database
            options.server = server
            options.token = token ?? Environment.string("EMBER_TOKEN")
            if server != nil && options.token == nil { throw ValidationError("--server needs --token or EMBER_TOKEN") }
            let json = json
            let result = try await RegistryBenchmark.run(options) { step in
                if !json { FileHandle.standardError.write(Data("\(step)…\n".utf8)) }
            }
            print(json ? try JSONOutput.encode(result) : result.table)
        }
    }
}

extension Bench {
    struct Lifecycle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Idle check-ins/s beside signed checks/s (same run), and the delivering check-in → factory state time.",
            discussion: "An in-process registry on loopback; decommissions are timed on fresh simulated boards with running agents."
        )

        @Option(help: "Registered devices the load cycles through.") var devices = 1_000
        @Option(help: "Seconds of checks, then of check-ins.") var duration: Double = 10
        @Option(help: "Concurrent clients.") var concurrency = 64
        @Option(help: "Decommissions to time.") var decommissions = 10
        @Option(help: "Database URL (default: a throwaway SQLite file).") var database: String?
        @Flag(help: "Print one JSON object instead of the table.") var json = false

        func validate() throws {
            guard (1...1_000_000).contains(devices) else { throw ValidationError("--devices must be 1…1000000") }
            guard duration > 0, duration <= 3_600 else { throw ValidationError("--duration must be between 0 and 3600 seconds") }
            guard (1...4_096).contains(concurrency) else { throw ValidationError("--concurrency must be 1…4096") }
            guard (1...1_000).contains(decommissions) else { throw ValidationError("--decommissions must be 1…1000") }
        }

        func run() async throws {
            var options = LifecycleBenchmark.Options()
            options.devices = devices
            options.duration = duration
            options.concurrency = concurrency
            options.decommissions = decommissions
            options.database = database
            let json = json
            let result = try await LifecycleBenchmark.run(options) { step in
                if !json { FileHandle.standardError.write(Data("\(step)…\n".utf8)) }
            }
            print(json ? try JSONOutput.encode(result) : result.table)
        }
    }

    struct Device: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cold start of `ember device run` on a fresh board to HTTP-ready, and its RSS after boot."
        )

        @Option(help: "Cold starts to measure.") var runs = 20
        @Flag(help: "Print one JSON object instead of the table.") var json = false

        func validate() throws {
            guard (1...1_000).contains(runs) else { throw ValidationError("--runs must be 1…1000") }
        }

        func run() async throws {
            let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            let json = json
            let result = try await DeviceBenchmark.run(runs: runs, binary: binary) { step in
                if !json { FileHandle.standardError.write(Data("\(step)…\n".utf8)) }
            }
            print(json ? try JSONOutput.encode(result) : result.table)
        }
    }
}

extension Bench {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "512 KiB encrypted backups through a real `ember serve` (SQLite): uploads/s, restores/s, seal MB/s, server RSS.",
            discussion: "Anchors from the same run: openssl's AES-256-GCM MB/s and this disk's 512 KiB write+fsync/s."
        )

        @Option(help: "Simulated devices uploading at once.") var devices = 32
        @Option(help: "Seconds of uploads, then of restores.") var duration: Double = 10
        @Flag(help: "Print one JSON object instead of the table.") var json = false

        func validate() throws {
            guard (1...1_024).contains(devices) else { throw ValidationError("--devices must be 1…1024") }
            guard duration > 0, duration <= 3_600 else { throw ValidationError("--duration must be between 0 and 3600 seconds") }
        }

        func run() async throws {
            var options = BackupBenchmark.Options(binary: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
            options.devices = devices
            options.duration = duration
            let json = json
            let result = try await BackupBenchmark.run(options) { step in
                if !json { FileHandle.standardError.write(Data("\(step)…\n".utf8)) }
            }
            print(json ? try JSONOutput.encode(result) : result.table)
        }
    }
}

extension Bench {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The manufacturing-record export of a large fleet through a real `ember serve` (SQLite): speed and server RSS.",
            discussion: """
                Provisions the devices through the API first (minutes for 100,000), then streams the CSV and the JSON-lines \
                export, samples the server's RSS while they run, and reads the CSV back with Python's csv module. Exits 1 \
                when a row is missing or the server grew by 32 MiB or more. Not part of `bench all` (the provisioning is long).
                """
        )

        @Option(help: "Devices in the fleet.") var devices = 100_000
        @Option(help: "Registrations in flight while provisioning.") var concurrency = 32
        @Flag(help: "Print one JSON object instead of the table.") var json = false

        func validate() throws {
            guard (1...2_000_000).contains(devices) else { throw ValidationError("--devices must be 1…2000000") }
            guard (1...512).contains(concurrency) else { throw ValidationError("--concurrency must be 1…512") }
        }

        func run() async throws {
            var options = ExportBenchmark.Options(binary: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
            options.devices = devices
            options.concurrency = concurrency
            let json = json
            let result = try await ExportBenchmark.run(options) { step in
                if !json { FileHandle.standardError.write(Data("\(step)…\n".utf8)) }
            }
            print(json ? try JSONOutput.encode(result) : result.table)
            guard result.passed else { throw ExitCode(1) }
        }
    }
}

extension Bench {
    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every benchmark: crypto, registry (SQLite, and PostgreSQL when given), the server alone (wrk), a fleet, backup, device agent.",
            discussion: """
                Writes DIR/results.json and DIR/results.md (a table with each figure's physical anchor from the same run: openssl sign/verify and AES-GCM, disk write+fsync, process spawn) and, with --plot, DIR/latency.svg: latency percentiles vs. concurrency for checks and registrations. Build with -c release for real figures.
                """
        )

        @Option(help: "Folder for the results.") var out = "bench"
        @Flag(help: "Also measure latency vs. concurrency and draw it (DIR/latency.svg).") var plot = false
        @Flag(help: "Shorter runs (a minute or two instead of several).") var quick = false
        @Option(help: "PostgreSQL URL for the registry benchmark on PostgreSQL. [env: EMBER_BENCH_POSTGRES_URL]") var postgres: String?
        @Option(help: "Devices of the fleet run (provision, then every device boots once); 0 skips it. (default: 100000, 10000 with --quick)")
        var fleetDevices: Int?

        func validate() throws {
            if let fleetDevices { guard (0...10_000_000).contains(fleetDevices) else { throw ValidationError("--fleet-devices must be 0…10000000") } }
        }

        func run() async throws {
            var options = BenchAll.Options(binary: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
            options.fleetDevices = fleetDevices
            options.out = out
            options.plot = plot
            options.quick = quick
            options.postgres = postgres ?? Environment.string("EMBER_BENCH_POSTGRES_URL")
            let results = try await BenchAll.run(options) { step in FileHandle.standardError.write(Data("\(step)…\n".utf8)) }
            print(results.markdown)
            print("written: \(out)/results.json, \(out)/results.md\(plot ? ", \(out)/latency.svg" : "")")
        }
    }
}

extension SignatureVersion: ExpressibleByArgument {
    /// `1`/`v1` (FireFly) or `2`/`v2` (Ember).
    public init?(argument: String) {
        let text = argument.lowercased()
        self.init(rawValue: text.hasPrefix("v") ? String(text.dropFirst()) : text)
    }

    public static var allValueStrings: [String] { ["v1", "v2"] }
}
