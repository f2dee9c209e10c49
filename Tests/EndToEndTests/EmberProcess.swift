import EmberSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `ember serve` process on 127.0.0.1, started with a bounded wait for its listening line.
final class EmberProcess: Sendable {
    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    let process: ChildProcess
    let log: URL
    let port: Int
    /// `https` when the process said it listens with TLS.
    let scheme: String
    var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }

    /// The built `ember` binary: `$EMBER_BINARY`, else `.build/debug/ember` of this checkout.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["EMBER_BINARY"] { return URL(fileURLWithPath: path) }
        var root = URL(fileURLWithPath: #filePath)
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/ember")
    }

    /// Starts `ember serve --port 0` (or `--port port`) on `database` and waits up to `timeout` seconds for it to listen.
    convenience init(
        database: String,
        folder: URL,
        environment: [String: String] = [:],
        arguments: [String] = [],
        quiet: Bool = true,
        port: Int = 0,
        timeout: Double = 30
    ) async throws {
        try await self.init(
            command: ["serve", "--host", "127.0.0.1", "--port", String(port), "--database", database] + (quiet ? ["--quiet"] : []) + arguments,
            folder: folder,
            environment: environment,
            timeout: timeout
        )
    }

    /// Starts `ember <command>` (which must print `listening on http://127.0.0.1:PORT`) and waits up to `timeout` seconds.
    init(
        command: [String],
        folder: URL,
        environment: [String: String] = [:],
        binary: URL = EmberProcess.binary,
        timeout: Double = 30
    )
        async throws
    {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw StartFailure(description: "no ember binary at \(binary.path): run `swift build` first or set EMBER_BINARY")
        }
        let log = folder.appendingPathComponent("ember-\(UUID().uuidString).log")
        let process = try ChildProcess(
            binary.path,
            command,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            output: .file(log.path)
        )
        self.process = process
        self.log = log

        let deadline = Date().addingTimeInterval(timeout)
        var port: Int?
        var scheme = "http"
        while port == nil && Date() < deadline && process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") ?? text.range(of: "listening on https://127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
                if text[..<range.upperBound].hasSuffix("https://127.0.0.1:") { scheme = "https" }
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let port else {
            process.send(SIGTERM)
            throw StartFailure(
                description: "ember \(command[0]) did not start within \(timeout) s:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")"
            )
        }
        self.port = port
        self.scheme = scheme
    }

    /// Sends a signal and waits (bounded) for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32, timeout: Double = 20) async throws -> Int32 {
        process.send(signal)
        guard let termination = try await process.wait(timeout: .seconds(timeout)) else {
            process.send(SIGKILL)
            throw StartFailure(description: "ember ignored signal \(signal) for \(timeout) s")
        }
        return termination.status
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The exit status (the signal's number after a kill); -1 while the process runs.
    var exitStatus: Int32 { process.termination?.status ?? -1 }

    /// Waits (bounded) for a process that is expected to die on its own; true when it exited.
    func waitForExit(timeout: Double = 20) async throws -> Bool {
        try await process.wait(timeout: .seconds(timeout)) != nil
    }

    /// Runs `ember <arguments>` to completion (bounded) and returns its exit status and output.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        binary: URL = EmberProcess.binary,
        timeout: Double = 30
    ) async throws -> (status: Int32, output: String) {
        let process = try ChildProcess(
            binary.path,
            arguments,
            environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 },
            output: .captured(mergingErrors: true)
        )
        guard let termination = try await process.wait(timeout: .seconds(timeout)) else {
            process.send(SIGKILL)
            throw StartFailure(description: "ember \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        return (termination.status, process.readOutput())
    }
}

/// A temporary folder removed when the test ends.
func withTemporaryFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}
