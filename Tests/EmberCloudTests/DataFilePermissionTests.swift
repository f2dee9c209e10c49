import EmberCloud
import EmberCore
import Foundation
import Logging
import Testing

/// The SQLite data holds live registration keys and token hashes: only Ember's user may read it.
struct DataFilePermissionTests {
    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) & 0o777
    }

    @Test func aNewDataFolderIs0700AndEveryDatabaseFile0600() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ember-perm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("ember-data/ember.sqlite").path
        let store = SQLStore(provider: try await SQLiteProvider.open(path: path, logger: TestRegistry.logger))
        do {
            try await store.migrate(now: 1_700_000_000)
            try await store.createAdminToken(
                name: "t",
                role: .admin,
                accountID: nil,
                hash: String(repeating: "a", count: 64),
                audit: AuditEvent(at: 1, by: AuditActor(actor: "test", client: "local"), action: "token.created", subject: "t")
            )
        } catch {
            try? await store.close()
            throw error
        }
        #expect(try Self.mode(root.appendingPathComponent("ember-data").path) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            #expect(try Self.mode(path + suffix) == 0o600, "ember.sqlite\(suffix)")
        }
        try await store.close()
    }

    @Test func anExistingReadableDatabaseIsMadePrivate() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ember-perm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let path = root.appendingPathComponent("old.sqlite").path
        let first = SQLStore(provider: try await SQLiteProvider.open(path: path, logger: TestRegistry.logger))
        try await first.migrate(now: 1_700_000_000)
        try await first.close()
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path + suffix)
        }
        let again = SQLStore(provider: try await SQLiteProvider.open(path: path, logger: TestRegistry.logger))
        #expect(try Self.mode(path) == 0o600)
        let tokens = try? await again.adminTokens()
        #expect(tokens?.isEmpty == true, "the database still opens")
        try await again.close()
    }
}
