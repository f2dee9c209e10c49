import ArgumentParser
import EmberBench
import Foundation

extension Bench {
    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Zero-touch enrollments/s beside key registrations/s, and signed checks/s over HTTPS beside plain HTTP.",
            discussion: "Both against in-process registries on loopback, in the same run; client and server share this machine's cores."
        )

        @Option(help: "Boards to enroll (and devices to register with keys).") var devices = 2_000
        @Option(help: "Concurrent clients.") var concurrency = 64
        @Option(help: "Seconds of signed checks on each transport.") var duration: Double = 10
        @Flag(help: "Print one JSON object instead of the table.") var json = false

        func validate() throws {
            guard (1...100_000).contains(devices) else { throw ValidationError("--devices must be 1…100000") }
            guard (1...4_096).contains(concurrency) else { throw ValidationError("--concurrency must be 1…4096") }
            guard duration > 0, duration <= 3_600 else { throw ValidationError("--duration must be between 0 and 3600 seconds") }
        }

        func run() async throws {
            var options = EnrollBenchmark.Options()
            options.devices = devices
            options.concurrency = concurrency
            options.duration = duration
            let json = json
            let result = try await EnrollBenchmark.run(options) { step in
                if !json { FileHandle.standardError.write(Data("\(step)…\n".utf8)) }
            }
            print(json ? try JSONOutput.encode(result) : result.table)
        }
    }
}
