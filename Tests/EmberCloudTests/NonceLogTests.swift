import EmberCloud
import Foundation
import SQLKit
import Testing

@testable import EmberCloud

/// On SQLite the seen nonces are a log and the live ones are decided in the store's memory (migration 11).
struct NonceLogTests {
    static func withFile(_ body: (String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-nonces-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder.appendingPathComponent("ember.sqlite").path)
    }

    static func open(_ path: String) async throws -> SQLStore {
        let store = SQLStore(provider: try await SQLiteProvider.open(path: path, exclusive: true, logger: TestRegistry.logger))
        try await store.migrate(now: 0)
        return store
    }

    /// A restarted server loads the live nonces from the log: what it accepted before is refused after.
    @Test func liveNoncesOutliveARestart() async throws {
        try await Self.withFile { path in
            let first = try await Self.open(path)
            #expect(try await first.recordNonce(device: "d", nonce: "kept", expiresAt: 130, now: 110))
            #expect(try await first.recordNonce(device: "d", nonce: "short", expiresAt: 112, now: 102))
            try await first.close()
            let again = try await Self.open(path)
            #expect(try await !again.recordNonce(device: "d", nonce: "kept", expiresAt: 135, now: 115), "seen before the restart")
            #expect(try await again.recordNonce(device: "d", nonce: "short", expiresAt: 135, now: 115), "expired before it")
            #expect(try await !again.recordNonce(device: "d", nonce: "short", expiresAt: 136, now: 116), "and recorded again")
            #expect(try await again.recordNonce(device: "e", nonce: "kept", expiresAt: 135, now: 115), "another device's")
            try await again.close()
        }
    }

    /// The sweep drops expired rows from the log and from memory.
    @Test func theSweepForgetsExpiredNonces() async throws {
        try await Self.withFile { path in
            let store = try await Self.open(path)
            for index in 0..<50 { #expect(try await store.recordNonce(device: "d", nonce: "n\(index)", expiresAt: 100 + Int64(index), now: 90)) }
            try await store.purgeGuards(now: 125, failuresBefore: 0)
            #expect(store.liveNonces?.count == 25)
            let rows = try await store.provider.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM seen_nonces").first()?.decode(column: "n", as: Int.self)
            }
            #expect(rows == 25)
            #expect(try await !store.recordNonce(device: "d", nonce: "n30", expiresAt: 140, now: 126), "a live one stays refused")
            #expect(try await store.recordNonce(device: "d", nonce: "n3", expiresAt: 140, now: 126))
            try await store.close()
        }
    }

    /// The nonces a server saw before the upgrade are refused after it.
    @Test func theMigrationKeepsTheSeenNonces() async throws {
        try await TestDatabase.sqlite.withStore { store in
            let sql = try #require(store as? SQLStore)
            try await sql.provider.transaction { db in
                try await db.raw("DROP TABLE seen_nonces").run()
                for statement in m0002SharedGuards.statements(.sqlite) where statement.contains("seen_nonces") {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw("INSERT INTO seen_nonces (device, nonce, expires_at) VALUES ('d', 'old', 130), ('d', 'gone', 90)").run()
                try await db.raw("DELETE FROM schema_migrations WHERE version = 11").run()
            }
            try await store.migrate(now: 100)
            #expect(try await !store.recordNonce(device: "d", nonce: "old", expiresAt: 125, now: 115), "seen before the upgrade")
            #expect(try await store.recordNonce(device: "d", nonce: "gone", expiresAt: 125, now: 115), "expired before it")
        }
    }

    /// A process without the file's lock (an admin command) cannot know the server's live nonces, so it records none.
    @Test func aStoreWithoutTheLockRecordsNoNonce() async throws {
        try await Self.withFile { path in
            let admin = SQLStore(provider: try await SQLiteProvider.open(path: path, logger: TestRegistry.logger))
            try await admin.migrate(now: 0)
            #expect(admin.liveNonces == nil)
            await #expect(throws: StoreError.self) { try await admin.recordNonce(device: "d", nonce: "n", expiresAt: 130, now: 110) }
            try await admin.close()
            let server = try await Self.open(path)
            #expect(try await server.recordNonce(device: "d", nonce: "n", expiresAt: 130, now: 110), "nothing was recorded")
            try await server.close()
        }
    }
}
