import ArgumentParser
import EmberClient
import EmberCore
import EmberDevice
import EmberFleet
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `ember fleet …`: thousands of simulated devices against a real registry.
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Simulate a fleet: provision thousands of devices, then storm the registry with their boot-time checks.",
        subcommands: [Provision.self, BootStormCommand.self]
    )

    struct Provision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create N simulated devices, mint a key for each through the admin API and register them.",
            discussion: """
                Each registered device is appended to --out at once (one JSON line with its master key; the file is \
                created with mode 0600). Ctrl-C stops cleanly: devices in flight finish and the file holds every device \
                that registered.
                """
        )

        @Option(help: "Registry URL. [env: EMBER_SERVER] (default: http://127.0.0.1:8080)") var server: String?
        @Option(help: "Admin or operator token. [env: EMBER_TOKEN]") var token: String?
        @Option(help: "Devices to create.") var devices: Int
        @Option(help: "Requests in flight.") var concurrency = 32
        @Option(help: "The fleet file to write.") var out = "fleet.jsonl"
        @Option(help: "Products, comma-separated ids or hex codes (default: every active product in the catalog).") var products: String?
        @Flag(help: "Print one JSON object at the end instead of the summary.") var json = false
        @Option(
            name: .customLong("source-address"),
            help: "Send from this local address, or an IPv4 range (127.0.0.2-127.0.0.33); repeatable, the workers take them in turn."
        )
        var sourceAddresses: [String] = []

        func validate() throws {
            guard (1...10_000_000).contains(devices) else { throw ValidationError("--devices must be 1…10000000") }
            guard (1...4_096).contains(concurrency) else { throw ValidationError("--concurrency must be 1…4096") }
        }

        func run() async throws {
            guard let token = token ?? Environment.string("EMBER_TOKEN") else { throw ValidationError("--token or EMBER_TOKEN is required") }
            let catalog = ProductCatalog.bundled
            let chosen: [ProductHex]
            do {
                chosen =
                    try products?.split(separator: ",").map { try catalog.product(named: $0.trimmingCharacters(in: .whitespaces)).productHex }
                    ?? catalog.products.filter { $0.status == .active }.map(\.productHex)
            } catch {
                throw ValidationError("\(error)")
            }
            var options = FleetProvisioning.Options(
                server: server ?? Environment.string("EMBER_SERVER") ?? "http://127.0.0.1:8080",
                token: token,
                devices: devices,
                concurrency: concurrency,
                out: out,
                products: chosen
            )
            do { options.sourceAddresses = try SourceAddresses.parse(sourceAddresses) } catch { throw ValidationError("\(error)") }
            let stop = StopSignal()
            let interrupt = InterruptHandler(stop)
            let bar = ProgressBar(label: "provisioning")
            let result = try await FleetProvisioning.run(options, stop: stop) { bar.update($0) }
            bar.finish()
            interrupt.cancel()
            if json {
                print(try JSONOutput.encode(result))
            } else {
                print(
                    """
                    registered \(result.registered) of \(result.requested) devices in \(String(format: "%.1f", result.seconds)) s \
                    (\(String(format: "%.0f", result.devicesPerS))/s; p50 \(String(format: "%.1f", result.p50Ms)) ms, \
                    p99 \(String(format: "%.1f", result.p99Ms)) ms per device)\(result.stopped ? " — stopped by Ctrl-C" : "")
                    fleet file: \(result.out)
                    """
                )
                if !result.errorsByKind.isEmpty {
                    print("failures: " + result.errorsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                }
            }
            if result.registered < result.requested && !result.stopped { throw ExitCode(1) }
        }
    }

    struct BootStormCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "boot-storm",
            abstract: "Every device of a fleet does its boot-time registration check (and optionally a backup), for a while.",
            discussion: "Signing keys are derived from each device's master key for every request and dropped after it."
        )

        @Option(help: "Registry URL. [env: EMBER_SERVER] (default: http://127.0.0.1:8080)") var server: String?
        @Option(help: "The fleet file `ember fleet provision` wrote.") var fleet = "fleet.jsonl"
        @Option(help: "Requests in flight.") var concurrency = 64
        @Option(help: "Seconds to storm (longer if one round of the whole fleet takes longer).") var duration: Double = 30
        @Option(help: "Signatures: v2 (Ember) or v1 (FireFly-compatible).") var signature: SignatureVersion = .v2
        @Option(help: "Also push an encrypted backup of this many KiB after each check (1…512).") var backupKb: Int?
        @Flag(help: "Print one JSON object instead of the summary.") var json = false
        @Option(
            name: .customLong("source-address"),
            help: "Send from this local address, or an IPv4 range (127.0.0.2-127.0.0.33); repeatable, the workers take them in turn."
        )
        var sourceAddresses: [String] = []

        func validate() throws {
            guard (1...4_096).contains(concurrency) else { throw ValidationError("--concurrency must be 1…4096") }
            guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be between 0 and 86400 seconds") }
            if let backupKb { guard (1...512).contains(backupKb) else { throw ValidationError("--backup-kb must be 1…512") } }
        }

        func run() async throws {
            let members: Fleet
            do { members = try Fleet(path: fleet) } catch { throw ValidationError("\(error)") }
            var options = BootStorm.Options(
                server: server ?? Environment.string("EMBER_SERVER") ?? "http://127.0.0.1:8080",
                fleet: members,
                concurrency: concurrency,
                duration: duration,
                signature: signature,
                backupKB: backupKb
            )
            do { options.sourceAddresses = try SourceAddresses.parse(sourceAddresses) } catch { throw ValidationError("\(error)") }
            let stop = StopSignal()
            let interrupt = InterruptHandler(stop)
            let bar = ProgressBar(label: "boot storm", expectedSeconds: duration)
            let result = try await BootStorm.run(options, stop: stop) { bar.update($0) }
            bar.finish()
            interrupt.cancel()
            if json {
                print(try JSONOutput.encode(result))
                return
            }
            func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
            print(
                """
                boot storm: \(result.devices) devices (\(result.devicesBooted) booted), \(result.concurrency) in flight, \
                \(result.signature) signatures\(result.backupKB.map { ", \($0) KiB backups" } ?? ""), \(f(result.durationS)) s
                requests      \(result.requests) (\(f(result.requestsPerS, 0))/s)
                latency       p50 \(f(result.p50Ms, 2)) ms  p90 \(f(result.p90Ms, 2)) ms  p99 \(f(result.p99Ms, 2)) ms  max \(f(result.maxMs, 2)) ms
                statuses      \(result.statusCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
                errors        \(result.errors)\(result.errorsByKind.isEmpty ? "" : " (" + result.errorsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")")
                """
            )
        }
    }
}

/// Ctrl-C asks the run to stop; a second Ctrl-C ends the process at once.
final class InterruptHandler: @unchecked Sendable {
    // @unchecked: `source` is set once in init and only cancelled afterwards.
    private let source: any DispatchSourceSignal

    init(_ stop: StopSignal) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if stop.isStopped { exit(130) }
            FileHandle.standardError.write(Data("\nstopping: finishing requests in flight (Ctrl-C again to quit now)\n".utf8))
            stop.stop()
        }
        source.resume()
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// Progress on standard error: a redrawn bar with count, rate and ETA on a terminal, a plain line every 5 s otherwise.
final class ProgressBar: Sendable {
    let label: String
    let expectedSeconds: Double?
    let terminal = isatty(STDERR_FILENO) == 1
    private let lastLine = Mutex(-1.0)

    init(label: String, expectedSeconds: Double? = nil) {
        self.label = label
        self.expectedSeconds = expectedSeconds
    }

    func update(_ progress: FleetProgress) {
        let rate = Double(progress.done + progress.failed) / max(progress.elapsedSeconds, 1e-9)
        var text = "\(label): \(progress.done)"
        var fraction: Double?
        var remaining: Double?
        if let total = progress.total {
            text += "/\(total)"
            fraction = Double(progress.done + progress.failed) / Double(max(total, 1))
            remaining = rate > 0 ? Double(total - progress.done - progress.failed) / rate : nil
        } else if let expectedSeconds {
            fraction = min(1, progress.elapsedSeconds / expectedSeconds)
            remaining = max(0, expectedSeconds - progress.elapsedSeconds)
        }
        text += String(format: "  %.0f/s", rate)
        if progress.failed > 0 { text += "  \(progress.failed) failed" }
        if let remaining { text += "  ETA \(Self.duration(remaining))" }
        if terminal {
            let width = 24
            let filled = Int((fraction ?? 0) * Double(width))
            let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar)\(text)".utf8))
        } else {
            let due = lastLine.withLock { last -> Bool in
                guard progress.elapsedSeconds - last >= 5 else { return false }
                last = progress.elapsedSeconds
                return true
            }
            if due { FileHandle.standardError.write(Data("\(text)\n".utf8)) }
        }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3_600 ? "\(total / 3_600)h\(total % 3_600 / 60)m" : total >= 60 ? "\(total / 60)m\(total % 60)s" : "\(total)s"
    }
}
