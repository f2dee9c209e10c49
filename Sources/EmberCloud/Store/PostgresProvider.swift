import Foundation
import Logging
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit

/// Scale-out storage: a pooled PostgreSQL client. Transactions are real database transactions, so several
/// `ember serve` instances can share one database.
public final class PostgresProvider: DatabaseProvider {
    public let dialect = SQLDialectKind.postgres
    /// Other instances may share the database.
    public let exclusive = false
    public let location: String
    private let client: PostgresClient
    private let logger: Logger
    // The pool's run loop; owned here so that the store can be opened and closed outside a ServiceGroup (CLI, tests).
    private let runner: Task<Void, Never>

    /// A parsed `postgres://user:password@host:port/database?sslmode=…&pool=…` URL.
    public struct Settings: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var requireTLS: Bool
        public var poolSize: Int

        /// The URL without its password, for logs.
        public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)" }

        /// Parses the URL; the error message never repeats the password.
        public init(url: String) throws {
            guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
                let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty
            else {
                throw StoreError.unsupportedDatabase("a PostgreSQL URL must look like postgres://user:password@host:5432/database")
            }
            self.host = host
            self.port = parts.port ?? 5432
            self.username = user.removingPercentEncoding ?? user
            self.password = parts.password.map { $0.removingPercentEncoding ?? $0 }
            let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
            self.database = path.isEmpty ? self.username : path
            let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            switch query["sslmode"] ?? "disable" {
            case "disable": requireTLS = false
            case "require", "verify-full": requireTLS = true
            case let mode: throw StoreError.unsupportedDatabase("sslmode=\(mode): use disable or require")
            }
            guard let pool = Int(query["pool"] ?? "10"), (1...500).contains(pool) else {
                throw StoreError.unsupportedDatabase("pool must be an integer from 1 to 500")
            }
            self.poolSize = pool
        }
    }

    /// Connects and checks the server answers within `timeout` seconds.
    public static func open(url: String, logger: Logger, timeout: Double = 15) async throws -> PostgresProvider {
        let settings = try Settings(url: url)
        var configuration = PostgresClient.Configuration(
            host: settings.host,
            port: settings.port,
            username: settings.username,
            password: settings.password,
            database: settings.database,
            tls: settings.requireTLS ? .require(TLSConfiguration.makeClientConfiguration()) : .disable
        )
        configuration.options.maximumConnections = settings.poolSize
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let provider = PostgresProvider(location: settings.redacted, client: client, logger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await provider.read { db in try await db.raw("SELECT 1 AS one").first() } }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    throw StoreError.unsupportedDatabase("PostgreSQL at \(settings.redacted) did not answer within \(Int(timeout)) s")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            try? await provider.close()
            throw error
        }
        return provider
    }

    private init(location: String, client: PostgresClient, logger: Logger) {
        self.location = location
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await body(connection.sql(queryLogLevel: nil)) }
    }

    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await read(body)
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection.sql(queryLogLevel: nil)) }
        } catch let error as PostgresTransactionError {
            // The transaction was rolled back; callers decide on the error their body threw, as on SQLite.
            if let closureError = error.closureError { throw closureError }
            throw error
        }
    }

    public func close() async throws {
        runner.cancel()
        await runner.value
    }
}
