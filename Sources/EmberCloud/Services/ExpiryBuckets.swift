/// Keys with an expiry second, grouped by expiry into buckets of `granularity` seconds, so `sweep` touches only the
/// due buckets and their keys (the expired ones and those of the bucket `now` falls in) — never the whole table.
struct ExpiryBuckets<Key: Hashable & Sendable>: Sendable {
    let granularity: Int64
    private var expiries: [Key: Int64] = [:]
    /// Bucket → keys that expired into it when inserted (a key re-inserted later may also sit in a later bucket).
    private var buckets: [Int64: [Key]] = [:]

    init(granularity: Int64 = 1) {
        self.granularity = max(granularity, 1)
    }

    /// Number of keys held (expired ones included until the next sweep).
    var count: Int { expiries.count }

    /// The key's expiry; nil when it is not held.
    func expiry(of key: Key) -> Int64? { expiries[key] }

    /// Holds `key` until `expiresAt` (replacing an earlier expiry).
    mutating func insert(_ key: Key, expiresAt: Int64) {
        expiries[key] = expiresAt
        buckets[bucket(of: expiresAt), default: []].append(key)
    }

    /// Forgets `key`.
    mutating func remove(_ key: Key) {
        expiries[key] = nil
    }

    /// Drops every key that expired before `now`; returns them.
    @discardableResult
    mutating func sweep(now: Int64) -> [Key] {
        let current = bucket(of: now)
        var expired: [Key] = []
        for index in buckets.keys where index <= current {
            var kept: [Key] = []
            for key in buckets.removeValue(forKey: index) ?? [] {
                guard let expiry = expiries[key], expiry < now else {
                    // Not due yet (only in the bucket `now` falls in), or moved to a later bucket by a re-insert.
                    if let expiry = expiries[key], bucket(of: expiry) == index { kept.append(key) }
                    continue
                }
                expiries[key] = nil
                expired.append(key)
            }
            if !kept.isEmpty { buckets[index] = kept }
        }
        return expired
    }

    private func bucket(of second: Int64) -> Int64 {
        second >= 0 ? second / granularity : (second - granularity + 1) / granularity
    }
}
