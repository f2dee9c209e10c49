import EmberCloud
import Foundation
import Logging
import SQLKit
import Testing

/// The databases every store and router test runs on: SQLite always, PostgreSQL when `scripts/test` started one.
enum TestDatabase: String, CaseIterable, Sendable {
    case sqlite
    case postgres

    /// The PostgreSQL server of this run (`EMBER_TEST_POSTGRES_URL`), if any.
    static let postgresURL = ProcessInfo.processInfo.environment["EMBER_TEST_POSTGRES_URL"]

    static var all: [TestDatabase] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A migrated store in a database of its own, closed and dropped after `body`.
    func withStore(_ body: (any Store) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-test-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let provider = try await SQLiteProvider.open(
                path: folder.appendingPathComponent("ember.sqlite").path,
                exclusive: true,
                logger: TestRegistry.logger
            )
            try await Self.run(SQLStore(provider: provider), body)
        case .postgres:
            guard let url = Self.postgresURL else { return }
            let name = "ember_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            let admin = try await PostgresProvider.open(url: url, logger: TestRegistry.logger)
            do {
                try await admin.read { db in try await db.raw(SQLQueryString("CREATE DATABASE \(unsafeRaw: name)")).run() }
                let base = url[..<(url.range(of: "/", options: .backwards)?.lowerBound ?? url.endIndex)]
                let provider = try await PostgresProvider.open(url: "\(base)/\(name)?pool=4", logger: TestRegistry.logger)
                try await Self.run(SQLStore(provider: provider), body)
                try await admin.read { db in try await db.raw(SQLQueryString("DROP DATABASE \(unsafeRaw: name) WITH (FORCE)")).run() }
                try await admin.close()
            } catch {
                try? await admin.close()
                throw error
            }
        }
    }

    /// The URL of a new, empty PostgreSQL database for the length of `body` (nothing when no server runs).
    static func withEmptyPostgresDatabase(_ body: (String) async throws -> Void) async throws {
        guard let url = postgresURL else { return }
        let name = "ember_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = try await PostgresProvider.open(url: url, logger: TestRegistry.logger)
        do {
            try await admin.read { db in try await db.raw(SQLQueryString("CREATE DATABASE \(unsafeRaw: name)")).run() }
            let base = url[..<(url.range(of: "/", options: .backwards)?.lowerBound ?? url.endIndex)]
            try await body("\(base)/\(name)?pool=2")
            try await admin.read { db in try await db.raw(SQLQueryString("DROP DATABASE \(unsafeRaw: name) WITH (FORCE)")).run() }
            try await admin.close()
        } catch {
            try? await admin.close()
            throw error
        }
    }

    private static func run(_ store: SQLStore, _ body: (any Store) async throws -> Void) async throws {
        do {
            try await store.migrate(now: 1_767_225_600)
            try await body(store)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// `scripts/test` sets `EMBER_REQUIRE_POSTGRES`: then PostgreSQL must really be there, never silently skipped.
struct TestDatabaseTests {
    @Test func postgresIsPresentWhenRequired() async throws {
        guard ProcessInfo.processInfo.environment["EMBER_REQUIRE_POSTGRES"] == "1" else { return }
        #expect(TestDatabase.all.contains(.postgres), "EMBER_REQUIRE_POSTGRES=1 but EMBER_TEST_POSTGRES_URL is not set")
        try await TestDatabase.postgres.withStore { store in try await store.ping() }
    }
}
