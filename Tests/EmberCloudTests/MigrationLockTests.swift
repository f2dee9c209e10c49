import EmberCloud
import SQLKit
import Testing

@testable import EmberCloud

/// Several instances starting at once on one new PostgreSQL database: each migration is applied exactly once.
struct MigrationLockTests {
    @Test func fourInstancesMigratingAtOnceApplyEachMigrationOnce() async throws {
        try await TestDatabase.withEmptyPostgresDatabase { url in
            var providers: [PostgresProvider] = []
            for _ in 0..<4 { providers.append(try await PostgresProvider.open(url: url, logger: TestRegistry.logger)) }
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for provider in providers {
                    group.addTask { try await Migrator(provider: provider).migrate(now: 1_767_225_600) }
                }
                var all: [Int] = []
                for try await versions in group { all += versions }
                return all
            }
            #expect(applied.sorted() == Migrations.all.map(\.version), "every migration applied by exactly one instance")
            let rows = try await providers[0].read { db in try await db.raw("SELECT version FROM schema_migrations").all() }
            #expect(rows.count == Migrations.all.count)
            #expect(try await SQLStore(provider: providers[1]).migrationStatus().allSatisfy { $0.appliedAt != nil })
            for provider in providers { try await provider.close() }
        }
    }
}
