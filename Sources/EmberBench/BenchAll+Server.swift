import Foundation

extension BenchAll {
    /// The server-alone wrk runs and the fleet run, and their lines of the table.
    struct ServerFigures {
        var runs: [ServerLoadBenchmark.Result] = []
        var skipped: String?
        var fleet: FleetBenchmark.Result?
        var figures: [Figure] = []
    }

    static func serverFigures(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> ServerFigures {
        var server = ServerFigures()
        let seconds = options.quick ? 4 : 8
        if let reason = ServerLoadBenchmark.unavailable(repository: options.repository) {
            server.skipped = reason
            progress("server alone: skipped, \(reason)")
        } else {
            // Registrations come from many addresses (the server trusts loopback as its proxy), as a fleet's do.
            let many = ["EMBER_WRK_MANY_ADDRESSES": "1"]
            var databases: [(name: String, url: String?)] = [("SQLite", nil)]
            if let postgres = options.postgres { databases.append(("PostgreSQL", postgres)) }
            for database in databases {
                for (script, connections, environment) in [("signed-checks-wrk.sh", 64, [:]), ("registrations-wrk.sh", 128, many)] {
                    progress("server alone on \(database.name): \(script) \(seconds) \(connections)")
                    let run = try ServerLoadBenchmark.run(
                        script: script,
                        repository: options.repository,
                        binary: options.binary,
                        seconds: seconds,
                        connections: connections,
                        database: database.url,
                        environment: environment
                    )
                    server.runs.append(run)
                    server.figures += figures(of: run, on: database.name)
                }
            }
        }
        let devices = options.fleetDevices ?? (options.quick ? 10_000 : 100_000)
        if devices > 0 {
            progress("fleet of \(devices)")
            var fleetOptions = FleetBenchmark.Options(binary: options.binary)
            fleetOptions.devices = devices
            let fleet = try await FleetBenchmark.run(fleetOptions) { progress("fleet: \($0)") }
            server.fleet = fleet
            let scale = Double(1_000_000) / Double(devices)
            server.figures += [
                Figure(
                    name: "fleet of \(devices): provision (\(fleet.provisionErrors) errors)",
                    value: fleet.provisionSeconds,
                    unit: "s",
                    anchor: "devices/s",
                    anchorValue: fleet.provisionPerS,
                    goal: devices == 1_000_000 ? "≤ 600 s, 0 errors" : "≤ \(Int(600 / scale)) s at the 1,000,000 goal's rate"
                ),
                Figure(
                    name: "fleet of \(devices): boot storm, every device once (\(fleet.stormErrors) errors)",
                    value: fleet.stormSeconds,
                    unit: "s",
                    anchor: "checks/s",
                    anchorValue: fleet.stormPerS,
                    goal: devices == 1_000_000 ? "≤ 300 s, 0 errors" : "≤ \(Int(300 / scale)) s at the 1,000,000 goal's rate"
                ),
                Figure(name: "fleet of \(devices): server peak RSS", value: fleet.serverPeakRSSMiB, unit: "MiB", goal: "< 256"),
            ]
        }
        return server
    }

    private static func figures(of run: ServerLoadBenchmark.Result, on database: String) -> [Figure] {
        let checks = run.script.hasPrefix("signed-checks")
        let what = checks ? "signed checks" : "registrations, many addresses"
        let goal: String
        switch (checks, database) {
        case (true, "SQLite"): goal = "≥ 10000, ratio ≥ 0.35"
        case (true, _): goal = "≥ 5000"
        case (false, "SQLite"): goal = "≥ 2500"
        case (false, _): goal = "≥ 1500"
        }
        return [
            Figure(
                name: "\(what), \(database), server alone (wrk, \(run.connections) conn., \(run.errors) errors)",
                value: run.requestsPerS,
                unit: "/s",
                anchor: run.anchor,
                anchorValue: run.anchorValue,
                ratio: checks ? run.anchorValue.map { run.requestsPerS / $0 } : nil,
                goal: goal
            ),
            Figure(
                name: "\(what) p99, \(database), server alone",
                value: run.p99Ms,
                unit: "ms",
                goal: checks && database == "SQLite" ? "< 10" : nil
            ),
        ]
    }
}
