import Foundation
import Logging
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded database: one SQLite file in WAL mode, one writer connection behind a gate, a few reader connections.
///
/// Readers on their own connections see only committed transactions, so a read never observes a
/// registration that is about to roll back.
public final class SQLiteProvider: DatabaseProvider {
    public let dialect = SQLDialectKind.sqlite
    public let location: String
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let gate = AsyncGate()
    private let nextReader = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)

    /// Opens (creating if needed) the database file and its folder.
    public static func open(path: String, readers readerCount: Int = 2, logger: Logger) async throws -> SQLiteProvider {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let writer = try await SQLiteConnection.open(storage: .file(path: url.path), logger: logger)
        do {
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA busy_timeout=10000", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"] {
                try await writer.sql(queryLogLevel: nil).raw(SQLQueryString(pragma)).run()
            }
            var readers: [SQLiteConnection] = []
            for _ in 0..<max(1, readerCount) {
                let reader = try await SQLiteConnection.open(storage: .file(path: url.path), logger: logger)
                try await reader.sql(queryLogLevel: nil).raw("PRAGMA busy_timeout=10000").run()
                readers.append(reader)
            }
            return SQLiteProvider(location: "sqlite:" + url.path, writer: writer, readers: readers)
        } catch {
            try? await writer.close()
            throw error
        }
    }

    private init(location: String, writer: SQLiteConnection, readers: [SQLiteConnection]) {
        self.location = location
        self.writer = writer
        self.readers = readers
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await body(readers[abs(index % readers.count)].sql(queryLogLevel: nil))
    }

    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let database = writer.sql(queryLogLevel: nil)
        return try await gate.withGate { try await body(database) }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let database = writer.sql(queryLogLevel: nil)
        return try await gate.withGate {
            try await database.raw("BEGIN IMMEDIATE").run()
            do {
                let value = try await body(database)
                try await database.raw("COMMIT").run()
                return value
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func close() async throws {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        for reader in readers { try await reader.close() }
        try await writer.close()
    }
}
