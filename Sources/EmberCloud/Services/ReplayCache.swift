import Foundation

/// Remembers every accepted (device, nonce) pair while its timestamp could still be accepted, so a replay fails.
/// Expired pairs leave in `sweep`, run by `GuardSweeper`; a live request sweeps only when the cache is full.
public actor ReplayCache {
    struct Entry: Hashable, Sendable {
        let device: String
        let nonce: Data
    }

    let capacity: Int
    private var entries = ExpiryBuckets<Entry>()

    public init(capacity: Int = 2_000_000) {
        self.capacity = capacity
    }

    /// Records a nonce that is good until `expiresAt`; `.replayed` when it is already held.
    public func record(device: String, nonce: Data, expiresAt: Int64, now: Int64) -> NonceDecision {
        let entry = Entry(device: device, nonce: nonce)
        if let expiry = entries.expiry(of: entry), expiry >= now { return .replayed }
        if entries.count >= capacity { entries.sweep(now: now) }
        guard entries.count < capacity else { return .full }
        entries.insert(entry, expiresAt: expiresAt)
        return .fresh
    }

    /// Drops every entry that expired before `now`.
    public func sweep(now: Int64) {
        entries.sweep(now: now)
    }

    /// Number of nonces held.
    public var count: Int { entries.count }
}
