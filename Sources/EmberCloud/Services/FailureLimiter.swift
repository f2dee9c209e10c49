/// Counts failed registration-key attempts per client address and blocks a client after too many.
///
/// A client with `limit` failures in the last `window` seconds is refused until the oldest of them is `window` old.
/// A client's record expires `window` seconds after its last failure and leaves in `sweep`.
actor FailureLimiter {
    let limit: Int
    let window: Int64
    let maximumClients: Int
    private var failures: [String: [Int64]] = [:]
    private var expiries = ExpiryBuckets<String>()

    init(limit: Int = 10, window: Int64 = 60, maximumClients: Int = 100_000) {
        self.limit = limit
        self.window = window
        self.maximumClients = maximumClients
    }

    /// Seconds the client must wait, or nil when it may try.
    func retryAfter(client: String, now: Int64) -> Int64? {
        guard let times = failures[client] else { return nil }
        let recent = times.filter { $0 > now - window }
        guard recent.count >= limit, let oldest = recent.first else { return nil }
        return max(1, oldest + window - now)
    }

    /// Number of client addresses with failures on record.
    var trackedClients: Int { failures.count }

    /// Records one failed attempt.
    func recordFailure(client: String, now: Int64) {
        if failures[client] == nil && failures.count >= maximumClients {
            sweep(now: now)
            if failures.count >= maximumClients, let victim = failures.keys.first {
                failures[victim] = nil
                expiries.remove(victim)
            }
        }
        var times = failures[client, default: []].filter { $0 > now - window }
        times.append(now)
        failures[client] = Array(times.suffix(limit))
        expiries.insert(client, expiresAt: now + window)
    }

    /// Forgets the clients whose last failure is older than the window.
    func sweep(now: Int64) {
        for client in expiries.sweep(now: now + 1) { failures[client] = nil }
    }
}
