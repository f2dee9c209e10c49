import SQLKit

/// One attempt to reserve, as the failed-key counter asks for it.
struct AttemptReservationRequest: Sendable {
    var client: String
    var attempt: String
    var at: Int64
    /// Failures and attempts at or before this time no longer count.
    var since: Int64
    var limit: Int
}

/// One client's failures after a time, as the early check asks for them.
struct FailureQuery: Sendable, Hashable {
    var client: String
    var since: Int64
}

extension SQLStore {
    /// The attempts and failures the counter keeps: concurrent calls of one instance share a transaction (reserve)
    /// or a statement (the early check, release), so a registration costs no round trip of its own here.
    struct AttemptBatches: Sendable {
        let reservations: Coalescer<AttemptReservationRequest, StoredReservation>
        let failures: Coalescer<FailureQuery, FailureCount>
        let releases: Coalescer<String, Bool>

        init(provider: any DatabaseProvider) {
            reservations = Coalescer { try await SQLStore.reserveAttempts($0, on: provider) }
            failures = Coalescer { queries in
                let rows = try await provider.read { db in try await SQLStore.attemptRows(Array(Set(queries)), on: db) }
                let byClient = Dictionary(grouping: rows, by: \.client)
                return queries.map { query in FailureCount(byClient[query.client, default: []].filter { $0.at > query.since && !$0.inFlight }) }
            }
            releases = Coalescer { attempts in
                try await provider.write { db in
                    try await db.raw("DELETE FROM registration_failures WHERE attempt IN (\(binds: Array(Set(attempts))))").run()
                }
                return attempts.map { _ in true }
            }
        }
    }

    /// A row of `registration_failures`: a failure, or an attempt still being judged.
    struct AttemptRow: Sendable {
        var client: String
        var at: Int64
        var inFlight: Bool
    }

    /// A client's failures in a window: how many, and the oldest.
    struct FailureCount: Sendable {
        var count: Int
        var oldest: Int64?

        init(_ failures: [AttemptRow]) {
            count = failures.count
            oldest = failures.map(\.at).min()
        }
    }

    public func reserveRegistrationAttempt(
        client: String,
        attempt: String,
        at: Int64,
        since: Int64,
        limit: Int
    ) async throws
        -> StoredReservation
    {
        try await attempts.reservations.submit(AttemptReservationRequest(client: client, attempt: attempt, at: at, since: since, limit: limit))
    }

    /// Decides a batch of reservations in one transaction: the clients' locks (on PostgreSQL, so instances decide a
    /// client one at a time), one read of their recent rows, then each reservation in order against what the
    /// rows and the batch's earlier grants leave, and one insert of the granted ones.
    static func reserveAttempts(_ batch: [AttemptReservationRequest], on provider: any DatabaseProvider) async throws -> [StoredReservation] {
        try await provider.transaction { db in
            let clients = Array(Set(batch.map(\.client))).sorted()
            // Every statement after the lock reads what committed before it (PostgreSQL's read committed), so a
            // confirmation or a grant of another instance is seen.
            if let lock = SQLDialectSpecifics.keyLocks(provider.dialect, keys: clients.map { "ember-failures " + $0 }) {
                try await db.raw(lock).run()
            }
            let since = batch.map(\.since).min() ?? 0
            var rows = Dictionary(grouping: try await attemptRows(clients.map { FailureQuery(client: $0, since: since) }, on: db), by: \.client)
            var granted: [AttemptReservationRequest] = []
            let decisions = batch.map { request -> StoredReservation in
                let recent = rows[request.client, default: []].filter { $0.at > request.since }
                let failures = FailureCount(recent.filter { !$0.inFlight })
                guard failures.count < request.limit else { return .blocked(failures: failures.count, oldest: failures.oldest) }
                guard recent.count < request.limit else { return .busy }
                rows[request.client, default: []].append(AttemptRow(client: request.client, at: request.at, inFlight: true))
                granted.append(request)
                return .granted
            }
            if !granted.isEmpty {
                try await db.insert(into: "registration_failures").columns("client", "at", "attempt", "in_flight")
                    .rows(granted.map { [SQLBind($0.client), SQLBind($0.at), SQLBind($0.attempt), SQLBind(1)] as [any SQLExpression] })
                    .run()
            }
            return decisions
        }
    }

    /// The rows of the queried clients after the earliest `since` of each (callers filter per query).
    static func attemptRows(_ queries: [FailureQuery], on db: any SQLDatabase) async throws -> [AttemptRow] {
        guard !queries.isEmpty else { return [] }
        let since = queries.map(\.since).min() ?? 0
        let rows = try await db.raw(
            """
            SELECT client, at, in_flight FROM registration_failures
            WHERE client IN (\(binds: Array(Set(queries.map(\.client))))) AND at > \(bind: since)
            """
        ).all()
        return try rows.map { row in
            // Rows from before attempts were reserved have no `in_flight` and are failures.
            AttemptRow(
                client: try row.decode(column: "client", as: String.self),
                at: try row.decode(column: "at", as: Int64.self),
                inFlight: try row.decode(column: "in_flight", as: Int?.self) == 1
            )
        }
    }

    public func confirmRegistrationAttempt(attempt: String) async throws {
        try await provider.write { db in
            try await db.update("registration_failures").set("in_flight", to: 0).where("attempt", .equal, attempt).run()
        }
    }

    public func releaseRegistrationAttempt(attempt: String) async throws {
        _ = try await attempts.releases.submit(attempt)
    }

    public func registrationFailures(client: String, since: Int64) async throws -> (count: Int, oldest: Int64?) {
        let failures = try await attempts.failures.submit(FailureQuery(client: client, since: since))
        return (failures.count, failures.oldest)
    }
}
