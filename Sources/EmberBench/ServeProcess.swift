import EmberSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An `ember serve` child process on a loopback port and a throwaway SQLite file, for the benchmarks that measure
/// the server's own memory.
final class ServeProcess: Sendable {
    let process: ChildProcess
    let port: Int

    var pid: String { String(process.pid) }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(process: ChildProcess, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts `binary serve` on `folder/bench.sqlite` with `token` as the bootstrap admin token; waits (bounded) until
    /// `/health` answers.
    static func start(binary: URL, folder: URL, token: String) async throws -> ServeProcess {
        let port = try DeviceBenchmark.freePort()
        let server = try ChildProcess(
            binary.path,
            [
                "serve", "--host", "127.0.0.1", "--port", String(port), "--database", "sqlite:\(folder.path)/bench.sqlite", "--quiet",
                "--log-level", "warning",
            ],
            environment: ProcessInfo.processInfo.environment.merging(["EMBER_BOOTSTRAP_TOKEN": token]) { $1 }
        )
        let started = ServeProcess(process: server, port: port)
        let deadline = Date().addingTimeInterval(20)
        while !DeviceBenchmark.httpReady(port: port, path: "/health") {
            guard server.isRunning, Date() < deadline else {
                started.stop()
                throw BackupBenchmark.Failure(description: "ember serve did not start on port \(port)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return started
    }

    /// Stops the server (SIGTERM, then SIGKILL) and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.send(SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        process.send(SIGKILL)
        process.waitUntilExit()
    }
}
