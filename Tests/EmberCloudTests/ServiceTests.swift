import EmberClient
import EmberCloud
import EmberCore
import Foundation
import Testing

@testable import EmberCloud

/// The registry's in-memory guards and start-up helpers.
struct ServiceTests {
    /// Reserves an attempt and records it as failed.
    static func fail(_ limiter: FailureLimiter, client: String, now: Int64) async {
        if case .granted(let id) = await limiter.reserve(client: client, now: now) { await limiter.confirm(client: client, id: id) }
    }

    @Test func failureLimiterBlocksAfterTheLimitAndForgets() async {
        let limiter = FailureLimiter(limit: 3, window: 60, maximumClients: 2)
        for second in 0..<3 { await Self.fail(limiter, client: "x", now: Int64(second)) }
        #expect(await limiter.retryAfter(client: "x", now: 10) == 50)
        #expect(await limiter.retryAfter(client: "y", now: 10) == nil)
        #expect(await limiter.retryAfter(client: "x", now: 60) == nil)
        for client in ["p", "q", "r", "s"] { await Self.fail(limiter, client: client, now: 100) }
        #expect(await limiter.trackedClients <= 2)  // the table stays bounded however many clients fail
        #expect(await limiter.retryAfter(client: "s", now: 100) == nil)
    }

    @Test func attemptsInFlightCountAndAPassedOneIsReleased() async throws {
        let limiter = FailureLimiter(limit: 10, window: 60)
        let granted = await withTaskGroup(of: AttemptReservation.self) { group in
            for _ in 0..<500 { group.addTask { await limiter.reserve(client: "x", now: 1_000) } }
            return await group.reduce(into: [AttemptID]()) { if case .granted(let id) = $1 { $0.append(id) } }
        }
        #expect(granted.count == 10, "500 at once: exactly the limit is judged at a time")
        #expect(await limiter.reserve(client: "x", now: 1_001) == .busy, "the others wait for those in flight")
        await limiter.release(client: "x", id: granted[0])
        guard case .granted(let next) = await limiter.reserve(client: "x", now: 1_001) else {
            Issue.record("a released attempt frees its place")
            return
        }
        for id in granted.dropFirst() + [next] { await limiter.confirm(client: "x", id: id) }
        #expect(await limiter.reserve(client: "x", now: 1_001) == .blocked(retryAfter: 59), "ten failures block")
    }

    /// Right keys from one address behind NAT only queue: more at once than the limit all pass, none gets 429.
    @Test func concurrentRightAttemptsQueueAndAllPass() async throws {
        let limiter = FailureLimiter(limit: 10, window: 60)
        let passed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await limiter.attempt(client: "nat", now: 1_000, blocked: { _ in CancellationError() }) {
                        try await Task.sleep(for: .milliseconds(5))
                        return (true, false)
                    }
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(passed == 50)
        #expect(await limiter.trackedClients == 0, "passed attempts leave nothing behind")
    }

    @Test(arguments: TestDatabase.all)
    func bootstrapCreatesOneAdminTokenOnlyWhenThereIsNone(database: TestDatabase) async throws {
        try await database.withStore { (store: any Store) async throws in
            let tokens = AdminTokens(store: store, clock: ManualClock())
            await #expect(throws: RegistryError.self) { try await tokens.bootstrap("short") }
            #expect(try await tokens.bootstrap("a-long-enough-bootstrap-secret"))
            #expect(try await tokens.authenticate("a-long-enough-bootstrap-secret")?.role == .admin)
            #expect(try await !tokens.bootstrap("another-long-bootstrap-secret"))
            #expect(try await store.adminTokens().count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func tokenNamesAreValidatedAndUnique(database: TestDatabase) async throws {
        try await database.withStore { (store: any Store) async throws in
            let tokens = AdminTokens(store: store, clock: ManualClock())
            let actor = AuditActor(actor: "t", client: "local")
            let token = try await tokens.create(name: "line-3", role: .operator, by: actor)
            #expect(token.hasPrefix("ember_") && token.count == 70)
            #expect(try await store.adminTokens().first?.name == "line-3")
            await #expect(throws: StoreError.duplicateName("line-3")) { try await tokens.create(name: "line-3", role: .admin, by: actor) }
            await #expect(throws: RegistryError.self) { try await tokens.create(name: "bad name!", role: .admin, by: actor) }
        }
    }

    @Test func postgresURLsAreParsedAndCheckedWithoutShowingThePassword() throws {
        let settings = try PostgresProvider.Settings(url: "postgres://ember:s%40cret@db.example:6543/fleet?sslmode=require&pool=32")
        #expect(settings.host == "db.example" && settings.port == 6543 && settings.database == "fleet")
        #expect(settings.password == "s@cret" && settings.requireTLS && settings.poolSize == 32)
        #expect(settings.redacted == "postgres://ember@db.example:6543/fleet")
        #expect(try PostgresProvider.Settings(url: "postgresql://ember@localhost").port == 5432)
        for bad in ["postgres://", "postgres://db/x", "postgres://u:secret@h/d?sslmode=maybe", "postgres://u:secret@h/d?pool=0", "mysql://u@h/d"] {
            #expect(throws: StoreError.self) { try PostgresProvider.Settings(url: bad) }
            do { _ = try PostgresProvider.Settings(url: bad) } catch { #expect(!"\(error)".contains("secret")) }
        }
    }

    @Test func anUnreachablePostgresIsAClearErrorWithoutThePassword() async throws {
        do {
            _ = try await PostgresProvider.open(url: "postgres://ember:secret@127.0.0.1:1/ember", logger: TestRegistry.logger, timeout: 2)
            Issue.record("opening an unreachable PostgreSQL succeeded")
        } catch {
            #expect("\(error)".contains("did not answer") || "\(error)".contains("cannot open"))
            #expect(!"\(error)".contains("secret"))
        }
    }

    @Test func unknownDatabaseURLsAreRefused() async throws {
        await #expect(throws: StoreError.self) { try await RegistryServer.openStore("mysql://u@h/d", logger: TestRegistry.logger) }
    }
}
