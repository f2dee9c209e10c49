import AsyncHTTPClient
import Crypto
import Dispatch
import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

extension RegistryBenchmark.Result {
    /// A human table of the figures.
    public var table: String {
        func f(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
        return """
            registry benchmark (\(database), \(concurrency) concurrent clients, \(signature) signatures, load generator on the same \(cores) cores)
            figure                         value
            registrations/s                \(f(registrationsPerS))   (p50 \(f(registrationP50Ms, 2)) ms, p99 \(f(registrationP99Ms, 2)) ms)
            keys minted/s (admin API)      \(f(keysMintedPerS))
            signed checks/s                \(f(checksPerS))   (p50 \(f(checkP50Ms, 2)) ms, p99 \(f(checkP99Ms, 2)) ms, max \(f(checkMaxMs, 2)) ms)
            errors                         \(errors)
            process RSS (server + clients) \(serverRssMib.map { f($0, 1) + " MiB" } ?? "n/a")
            openssl verify/s × cores       \(opensslVerifyPerS.map { f($0 * Double(cores)) } ?? "n/a")
            checks / (openssl verify×cores) \(checkRatioToOpensslLimit.map { f($0, 2) } ?? "n/a")
            """
    }
}

/// Hands the bound port from the server's start callback to the benchmark driver.
final class Ports: Sendable {
    static let shared = Ports()
    private let stream: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    }

    func publish(_ port: Int) { continuation.yield(port) }

    func wait() async throws -> Int {
        for await port in stream { return port }
        throw CancellationError()
    }
}
