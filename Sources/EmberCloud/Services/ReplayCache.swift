import Foundation

/// Remembers every accepted (device, nonce) pair while its timestamp could still be accepted, so a replay fails.
public actor ReplayCache {
    struct Entry: Hashable {
        let device: String
        let nonce: Data
    }

    /// What `record` decided.
    public enum Decision: Sendable, Equatable {
        case fresh
        case replayed
        /// The cache is full of live nonces; refuse rather than forget one.
        case full
    }

    let capacity: Int
    private var expiries: [Entry: Int64] = [:]
    private var lastSweep: Int64 = 0

    public init(capacity: Int = 2_000_000) {
        self.capacity = capacity
    }

    /// Records a nonce that is good until `expiresAt`; `.replayed` when it is already held.
    public func record(device: String, nonce: Data, expiresAt: Int64, now: Int64) -> Decision {
        let entry = Entry(device: device, nonce: nonce)
        if let expiry = expiries[entry], expiry >= now { return .replayed }
        if expiries.count >= capacity || now - lastSweep >= 30 {
            sweep(now: now)
        }
        guard expiries.count < capacity else { return .full }
        expiries[entry] = expiresAt
        return .fresh
    }

    /// Drops every entry that expired before `now`.
    public func sweep(now: Int64) {
        lastSweep = now
        expiries = expiries.filter { $0.value >= now }
    }

    /// Number of nonces held.
    public var count: Int { expiries.count }
}
