import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Both servers close a connection that sends nothing, and one whose request head never completes; the agent's log
/// never shows the visual token.
@Suite(.serialized)
struct IdleTimeoutTests {
    /// Connects to `port`, sends `bytes`, and waits up to `seconds` for the server to close; true when it did.
    static func serverCloses(port: Int, after bytes: String, within seconds: Int) throws -> Bool {
        let connection = try RawConnection(port: port)
        if !bytes.isEmpty { connection.send(bytes) }
        return connection.read(within: seconds).closed
    }

    @Test func theRegistryClosesIdleAndHalfSentConnections() async throws {
        try await withTemporaryFolder { folder in
            let server = try await EmberProcess(database: "sqlite:\(folder.path)/ember.sqlite", folder: folder, arguments: ["--idle-timeout", "1"])
            #expect(try Self.serverCloses(port: server.port, after: "", within: 10), "an idle socket")
            #expect(try Self.serverCloses(port: server.port, after: "GET /health HTTP/1.1\r\nHost: x\r\n", within: 10), "a half-sent head")
            // Values that would overflow or crash later are refused at start-up with what to fix.
            for (arguments, message) in [
                (["--idle-timeout", "0"], "the idle timeout must be 1…3600 seconds"),
                (["--registration-key-ttl", "9223372036854775807"], "the registration key TTL must be 1…31536000 seconds (a year)"),
                (["--signature-window", "9223372036854775807"], "the signature window must be 1…3600 seconds"),
                (["--trusted-proxies", "/"], "trusted proxy '/' is not an IP address or CIDR block"),
            ] {
                let refused = try await EmberProcess.run(["serve", "--database", "sqlite:\(folder.path)/x.sqlite"] + arguments)
                #expect(refused.status != 0 && refused.output.contains(message), "\(arguments): \(refused.output)")
            }
            try await server.stop(signal: SIGTERM)
        }
    }

    @Test func theDeviceAgentClosesIdleAndHalfSentConnections() async throws {
        try await withTemporaryFolder { folder in
            let board = folder.appendingPathComponent("board")
            let made = try await EmberProcess.run(["device", "init", "--product", "FFC0806-2305", "--dir", board.path])
            #expect(made.status == 0, "\(made.output)")
            let agent = try await EmberProcess(
                command: ["device", "run", "--dir", board.path, "--port", "0", "--idle-timeout", "1"],
                folder: folder
            )
            #expect(try Self.serverCloses(port: agent.port, after: "", within: 10), "an idle socket")
            #expect(try Self.serverCloses(port: agent.port, after: "POST /api/identity HTTP/1.1\r\nContent-Len", within: 10), "a half-sent head")
            // The OLED shows the visual token; the agent's log does not.
            let screen = try String(contentsOf: board.appendingPathComponent("display.txt"), encoding: .utf8)
            let token = try #require(screen.split(separator: "\n").first { $0.hasPrefix("Token: ") }?.dropFirst(7))
            #expect(agent.output.contains("Token: ******") && !agent.output.contains(String(token)))
            try await agent.stop(signal: SIGTERM)
        }
    }
}

/// A restart with a bootstrap token that was revoked says what to do instead of failing on a constraint.
struct BootstrapRestartTests {
    @Test func aRevokedBootstrapTokenIsRefusedWithWhatToDo() async throws {
        try await withTemporaryFolder { folder in
            let database = "sqlite:\(folder.path)/ember.sqlite"
            let token = "bootstrap-value-\(UUID().uuidString)"
            let first = try await EmberProcess(database: database, folder: folder, environment: ["EMBER_BOOTSTRAP_TOKEN": token])
            try await first.stop(signal: SIGTERM)
            let revoked = try await EmberProcess.run(["admin", "token", "revoke", "bootstrap", "--database", database])
            #expect(revoked.status == 0, "\(revoked.output)")
            let again = try await EmberProcess.run(["serve", "--database", database, "--port", "0"], environment: ["EMBER_BOOTSTRAP_TOKEN": token])
            #expect(again.status != 0)
            #expect(again.output.contains("EMBER_BOOTSTRAP_TOKEN is the value of a revoked token and cannot be used again"), "\(again.output)")
            #expect(!again.output.contains("UNIQUE") && !again.output.contains(token))
        }
    }
}
