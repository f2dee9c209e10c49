import EmberClient
import EmberDevice
import EmberFleet
import EmberSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `ember bench device`: how fast `ember device run` boots a fresh board and answers HTTP, and its memory after boot.
public enum DeviceBenchmark {
    public struct Result: Codable, Sendable {
        public var runs: Int
        public var readyMsMedian: Double
        public var readyMsP90: Double
        public var readyMsMax: Double
        public var rssMiBMedian: Double
        public var rssMiBMax: Double
        /// The private (anonymous) part of the RSS; the rest is the `ember` binary's code, shared between processes.
        public var rssAnonMiBMedian: Double
        /// Spawning `/bin/true` and waiting for it: the floor any process start pays on this machine.
        public var spawnFloorMsMedian: Double
        public var readyGoalMs: Double = 300
        public var rssGoalMiB: Double = 40

        enum CodingKeys: String, CodingKey {
            case runs
            case readyMsMedian = "ready_ms_median"
            case readyMsP90 = "ready_ms_p90"
            case readyMsMax = "ready_ms_max"
            case rssMiBMedian = "rss_mib_median"
            case rssMiBMax = "rss_mib_max"
            case rssAnonMiBMedian = "rss_anon_mib_median"
            case spawnFloorMsMedian =
                "spawn_floor_ms_median"
            case readyGoalMs = "ready_goal_ms"
            case rssGoalMiB = "rss_goal_mib"
        }

        /// The figures as a table.
        public var table: String {
            func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
            return """
                ember bench device — \(runs) cold starts of `ember device run` on a fresh board
                figure                         value     goal
                start → HTTP ready, median  \(f(readyMsMedian).leftPad(8)) ms  < \(f(readyGoalMs, 0)) ms
                start → HTTP ready, p90     \(f(readyMsP90).leftPad(8)) ms
                start → HTTP ready, max     \(f(readyMsMax).leftPad(8)) ms
                RSS after boot, median      \(f(rssMiBMedian).leftPad(8)) MiB < \(f(rssGoalMiB, 0)) MiB
                RSS after boot, max         \(f(rssMiBMax).leftPad(8)) MiB
                  of which private (RssAnon) \(f(rssAnonMiBMedian).leftPad(7)) MiB (the rest is the binary's shared code pages)
                process spawn floor (/bin/true) \(f(spawnFloorMsMedian, 2)) ms; ready / floor = \(f(readyMsMedian / max(spawnFloorMsMedian, 0.001), 0))×
                """
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts the agent `runs` times, each on a new blank board in a temporary folder.
    public static func run(runs: Int, binary: URL, progress: (String) -> Void = { _ in }) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-bench-device-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let product = try ProductCatalog.bundled.product(named: "FFC0806-2305")

        var ready: [UInt64] = []
        var rss: [Double] = []
        var anonymous: [Double] = []
        for index in 0..<runs {
            progress("cold start \(index + 1)/\(runs)")
            let board = folder.appendingPathComponent("board-\(index)")
            try SimulatedBoard.create(product: product, in: board)
            let port = try freePort()
            let start = ContinuousClock.now
            let process = try ChildProcess(binary.path, ["device", "run", "--dir", board.path, "--port", String(port), "--log-level", "warning"])
            let deadline = start + .seconds(10)
            while !httpReady(port: port) {
                guard process.isRunning, ContinuousClock.now < deadline else {
                    throw Failure(description: "ember device run did not answer on port \(port) within 10 s")
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            let elapsed = ContinuousClock.now - start
            ready.append(UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000))
            try await Task.sleep(for: .milliseconds(300))
            if let resident = residentMiB(pid: String(process.pid)) { rss.append(resident) }
            if let anon = residentMiB(pid: String(process.pid), field: "RssAnon:") { anonymous.append(anon) }
            process.send(SIGTERM)
            process.waitUntilExit()
        }

        var floor: [UInt64] = []
        for _ in 0..<max(runs, 5) {
            let start = ContinuousClock.now
            try ChildProcess("/bin/true", []).waitUntilExit()
            let elapsed = ContinuousClock.now - start
            floor.append(UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000))
        }
        let stats = LatencyHistogram(ready)
        let sortedRSS = rss.sorted()
        return Result(
            runs: runs,
            readyMsMedian: stats.milliseconds(0.5),
            readyMsP90: stats.milliseconds(0.9),
            readyMsMax: stats.milliseconds(1),
            rssMiBMedian: sortedRSS.isEmpty ? 0 : sortedRSS[sortedRSS.count / 2],
            rssMiBMax: sortedRSS.last ?? 0,
            rssAnonMiBMedian: anonymous.isEmpty ? 0 : anonymous.sorted()[anonymous.count / 2],
            spawnFloorMsMedian: LatencyHistogram(floor).milliseconds(0.5)
        )
    }

    /// A loopback port nobody listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// True when `GET path` on the loopback port answers 200.
    static func httpReady(port: Int, path: String = "/api/version") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: UInt16(port))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return false }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 12 else { return false }
        return String(decoding: buffer[0..<count], as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
