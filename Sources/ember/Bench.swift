import ArgumentParser
import EmberBench
import Foundation

/// `ember bench …`: measured figures, each beside its physical anchor on this machine.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Ember's speed on this machine.",
        subcommands: [Crypto.self]
    )

    struct Crypto: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign/verify, HKDF and FFCE rates, single core, with the ratio to `openssl speed ecdsap256`.")

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
}
