import AsyncHTTPClient
import Dispatch
import EmberClient
import EmberCloud
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A registry served on loopback inside the benchmark's process, on a throwaway SQLite file unless a database is
/// given, with an admin token; and the timed load loop the benchmarks share.
enum InProcessRegistry {
    /// Serves a registry for the length of `body`, which gets its base URL and an admin token.
    static func serve<T: Sendable>(
        database given: String?,
        configure: (inout RegistryConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (_ baseURL: String, _ token: String, _ database: String) async throws -> T
    ) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var logger = Logger(label: "ember-bench")
        logger.logLevel = .warning
        let database = given ?? "sqlite:\(folder.path)/bench.sqlite"
        let store = try await RegistryServer.openStore(database, exclusive: true, logger: logger)
        do {
            try await store.migrate(now: SystemClock().now())
            var configuration = RegistryConfiguration()
            configuration.port = 0
            configuration.logRequests = false
            configuration.failedAttemptLimit = Int.max / 2
            configure(&configuration)
            let registry = Registry(configuration: configuration, store: store)
            let token = try await registry.tokens.create(
                name: "bench-\(UUID().uuidString.prefix(8))",
                role: .admin,
                by: AuditActor(actor: "bench", client: "local")
            )
            let ports = Ports()
            let app = try RegistryServer.makeApplication(registry: registry, configuration: configuration, logger: logger) { port in
                ports.publish(port)
            }
            let server = ServiceGroup(services: [registry.checkInWriterService(logger: logger), app], gracefulShutdownSignals: [], logger: logger)
            let result: T = try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await server.run()
                    return nil
                }
                do {
                    let port = try await ports.wait()
                    let scheme = configuration.tls == nil ? "http" : "https"
                    let result = try await body("\(scheme)://127.0.0.1:\(port)", token, database)
                    await server.triggerGracefulShutdown()
                    return result
                } catch {
                    await server.triggerGracefulShutdown()
                    throw error
                }
            }
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// An HTTP client with a pool of `concurrency` connections, shut down after `body`.
    static func withHTTPClient<T>(concurrency: Int, tls: TLSConfiguration? = nil, _ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration.ember(tls: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
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

    /// `concurrency` clients each calling `request(i)` (i counting up from the client's number in steps of
    /// `concurrency`) until `seconds` are over; the latencies in nanoseconds, the failures, the elapsed seconds.
    static func timedLoad(
        seconds: Double,
        concurrency: Int,
        _ request: @escaping @Sendable (Int) async throws -> Bool
    ) async throws -> (samples: [UInt64], failures: Int, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(seconds * 1e9)
        let perClient = try await withThrowingTaskGroup(of: ([UInt64], Int).self) { group in
            for client in 0..<concurrency {
                group.addTask {
                    var samples: [UInt64] = []
                    var failures = 0
                    var index = client
                    while DispatchTime.now().uptimeNanoseconds < deadline {
                        let began = DispatchTime.now().uptimeNanoseconds
                        let succeeded = try await request(index)
                        samples.append(DispatchTime.now().uptimeNanoseconds - began)
                        if !succeeded { failures += 1 }
                        index += concurrency
                    }
                    return (samples, failures)
                }
            }
            return try await group.reduce(into: [([UInt64], Int)]()) { $0.append($1) }
        }
        return (perClient.flatMap(\.0), perClient.map(\.1).reduce(0, +), Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
