import Crypto
import Foundation
import SQLKit
import Synchronization

/// SQLite's live nonces, held by the store of the one server that owns the file (migration 11).
///
/// Kept in the database by `(device, nonce)`, each nonce of a batch landed on its own random index page, so a commit
/// wrote one 4 KiB WAL frame (and later a checkpoint write) per request. The table is now a log in insertion order
/// (a batch appends to one or two pages), and the nonces still live are held here, by a 128-bit SHA-256 prefix of
/// device and nonce, about 40 bytes each; the first batch after a start loads them from the log. The store's nonce
/// batches run one at a time, so each is decided against every earlier one, and a nonce is held here only once its
/// row is committed.
final class LiveNonces: Sendable {
    struct Key: Hashable, Sendable {
        let high: UInt64
        let low: UInt64

        init(_ nonce: SeenNonce) {
            var hash = SHA256()
            hash.update(data: Data(nonce.device.utf8))
            hash.update(data: [0])
            hash.update(data: Data(nonce.nonce.utf8))
            let digest = Array(hash.finalize())
            high = digest[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
            low = digest[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    private struct State: Sendable {
        var loaded = false
        var expiry: [Key: Int64] = [:]
    }

    private let state = Mutex(State())

    var isLoaded: Bool { state.withLock { $0.loaded } }

    /// The log's rows still live at `now`, once.
    func load(_ rows: [SeenNonce]) {
        state.withLock { state in
            for row in rows {
                let key = Key(row)
                state.expiry[key] = max(state.expiry[key] ?? .min, row.expiresAt)
            }
            state.loaded = true
        }
    }

    /// The nonces of `batch` (none repeated) that are not live at `now`, each with its key for `add` (hashed once,
    /// outside the lock).
    func fresh(_ batch: [SeenNonce], now: Int64) -> [(nonce: SeenNonce, key: Key)] {
        let keyed = batch.map { (nonce: $0, key: Key($0)) }
        return state.withLock { state in keyed.filter { (state.expiry[$0.key] ?? Int64.min) < now } }
    }

    /// Nonces whose rows are committed.
    func add(_ fresh: [(nonce: SeenNonce, key: Key)]) {
        state.withLock { state in
            for entry in fresh { state.expiry[entry.key] = entry.nonce.expiresAt }
        }
    }

    /// Forgets the nonces expired before `now` (the sweep, every 30 s).
    func removeExpired(before now: Int64) {
        state.withLock { state in state.expiry = state.expiry.filter { $0.value >= now } }
    }

    var count: Int { state.withLock { $0.expiry.count } }
}

extension SQLStore {
    /// One batch on SQLite: decided against the live nonces in memory, the fresh ones appended to the log in one
    /// statement (one commit and fsync, with the batch's v2 marks when it has some, on `marking`), then held as live.
    /// Returns the fresh ones.
    static func recordNonces(
        _ nonces: [SeenNonce],
        now: Int64,
        live: LiveNonces,
        on provider: any DatabaseProvider,
        marking: any DatabaseProvider
    ) async throws -> Set<SeenNonce> {
        if !live.isLoaded {
            let rows = try await provider.read { db in
                try await db.raw("SELECT device, nonce, expires_at FROM seen_nonces WHERE expires_at >= \(bind: now)").all()
            }
            live.load(
                try rows.map {
                    SeenNonce(
                        device: try $0.decode(column: "device", as: String.self),
                        nonce: try $0.decode(column: "nonce", as: String.self),
                        expiresAt: try $0.decode(column: "expires_at", as: Int64.self)
                    )
                }
            )
        }
        let fresh = live.fresh(nonces, now: now)
        guard !fresh.isEmpty else { return [] }
        let rows = fresh.map(\.nonce)
        let marks = rows.filter(\.marksSignsV2)
        @Sendable func append(_ db: any SQLDatabase) async throws {
            try await db.insert(into: "seen_nonces").columns("device", "nonce", "expires_at")
                .rows(rows.map { [SQLBind($0.device), SQLBind($0.nonce), SQLBind($0.expiresAt)] as [any SQLExpression] })
                .run()
        }
        if marks.isEmpty {
            try await provider.write { db in try await append(db) }
        } else {
            try await marking.transaction { db in
                try await append(db)
                try await markSignsV2(marks, on: db)
            }
        }
        live.add(fresh)
        return Set(rows)
    }
}
