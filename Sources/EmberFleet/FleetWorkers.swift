import AsyncHTTPClient
import EmberClient
import EmberCore
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Set from a signal handler (Ctrl-C) or a test: workers finish what they have in flight and stop.
public final class StopSignal: Sendable {
    private let stopped = Mutex(false)
    public init() {}
    public func stop() { stopped.withLock { $0 = true } }
    public var isStopped: Bool { stopped.withLock { $0 } }
}

/// Where a long fleet run stands, for a progress bar.
public struct FleetProgress: Sendable {
    public var done: Int
    public var failed: Int
    /// Nil for runs bounded by time.
    public var total: Int?
    public var elapsedSeconds: Double
}

/// Counts shared by a run's workers.
final class FleetTally: Sendable {
    private struct State {
        var done = 0
        var failed = 0
        var errors: [String: Int] = [:]
        var statuses: [String: Int] = [:]
        var histogram = LatencyHistogram()
    }

    private let state = Mutex(State())

    func success(status: Int, nanoseconds: UInt64) {
        state.withLock {
            $0.done += 1
            $0.statuses[String(status), default: 0] += 1
            $0.histogram.record(nanoseconds)
        }
    }

    func failure(_ kind: String, status: Int? = nil, nanoseconds: UInt64? = nil) {
        state.withLock {
            $0.failed += 1
            $0.errors[kind, default: 0] += 1
            if let status { $0.statuses[String(status), default: 0] += 1 }
            if let nanoseconds { $0.histogram.record(nanoseconds) }
        }
    }

    var counts: (done: Int, failed: Int) { state.withLock { ($0.done, $0.failed) } }
    var errors: [String: Int] { state.withLock { $0.errors } }
    var statuses: [String: Int] { state.withLock { $0.statuses } }
    var histogram: LatencyHistogram { state.withLock { $0.histogram } }

    /// The kind of a transport error, for `errors_by_kind`.
    static func kind(of error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timeout" }
            if error == .remoteConnectionClosed { return "connection_closed" }
        }
        if error is NIOConnectionError { return "connect" }
        if "\(error)".lowercased().contains("refused") { return "connect" }
        return "transport"
    }
}

/// Runs `worker` on `concurrency` tasks (each given its number) while reporting progress every half second; returns
/// the elapsed seconds.
func runWorkers(
    concurrency: Int,
    tally: FleetTally,
    total: Int?,
    progress: @escaping @Sendable (FleetProgress) -> Void,
    _ worker: @escaping @Sendable (Int) async -> Void
) async -> Double {
    let start = ContinuousClock.now
    func elapsed() -> Double {
        let time = ContinuousClock.now - start
        return Double(time.components.seconds) + Double(time.components.attoseconds) / 1e18
    }
    await withTaskGroup(of: Void.self) { group in
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let (done, failed) = tally.counts
                progress(FleetProgress(done: done, failed: failed, total: total, elapsedSeconds: elapsed()))
            }
        }
        for number in 0..<concurrency { group.addTask { await worker(number) } }
        await group.waitForAll()
        reporter.cancel()
    }
    let seconds = elapsed()
    let (done, failed) = tally.counts
    progress(FleetProgress(done: done, failed: failed, total: total, elapsedSeconds: seconds))
    return seconds
}

/// An HTTP client whose pool holds `concurrency` connections, shut down after `body`.
func withHTTPClient<T>(concurrency: Int, timeoutSeconds: Int64 = 30, _ body: (HTTPClient) async throws -> T) async throws -> T {
    var configuration = HTTPClient.Configuration.ember()
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
    configuration.timeout = .init(connect: .seconds(10), read: .seconds(timeoutSeconds))
    let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    do {
        let result = try await body(http)
        try await http.shutdown()
        return result
    } catch {
        try? await http.shutdown()
        throw error
    }
}

/// The local addresses a fleet's workers send from, handed out to the workers in turn, so a simulated fleet arrives
/// from many addresses (factory lines, sites) as a real one does. Each value is an IP address of this machine (on
/// Linux every 127.x.y.z is loopback) or an IPv4 range such as `127.0.0.2-127.0.0.33`.
public enum SourceAddresses {
    public static let maximum = 65_536

    /// The addresses `values` name, in order, or an error that says which value is wrong.
    public static func parse(_ values: [String]) throws -> [String] {
        var addresses: [String] = []
        for value in values {
            let ends = value.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            if ends.count == 2 {
                guard let first = ipv4(ends[0]), let last = ipv4(ends[1]), first <= last else {
                    throw FleetError("source address range \(value) must be two IPv4 addresses, the lower first")
                }
                guard Int(last - first) < maximum - addresses.count else {
                    throw FleetError("source address range \(value) makes more than \(maximum) source addresses")
                }
                addresses += (first...last).map { "\($0 >> 24).\($0 >> 16 & 255).\($0 >> 8 & 255).\($0 & 255)" }
            } else {
                guard (try? SocketAddress(ipAddress: value, port: 0)) != nil else {
                    throw FleetError("source address \(value) is not an IP address (or a range such as 127.0.0.2-127.0.0.33)")
                }
                addresses.append(value)
            }
        }
        guard addresses.count <= maximum else { throw FleetError("at most \(maximum) source addresses") }
        return addresses
    }

    /// The address worker `number` sends from, or nil (the system's choice) when there are none.
    static func address(_ addresses: [String], worker number: Int) -> String? {
        addresses.isEmpty ? nil : addresses[number % addresses.count]
    }

    private static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }
}
