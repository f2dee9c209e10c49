/// Counts failed attempts (registration keys, bearer tokens) per client address and blocks a client after too many.
///
/// An attempt is reserved before it is judged. While failures plus attempts in flight reach `limit`, further
/// attempts wait their turn (`busy`), so however many arrive at once, at most `limit` wrong ones are judged in any
/// `window` seconds, and right ones only queue. A client with `limit` failures in the last `window` seconds is
/// refused until the oldest of them is `window` old. A client's record expires `window` seconds after its last
/// attempt and leaves in `sweep`.
actor FailureLimiter {
    struct Attempt: Sendable {
        let at: Int64
        let id: AttemptID
        /// Judged and failed; an attempt still being judged is `false`.
        var failed = false
    }

    let limit: Int
    let window: Int64
    let maximumClients: Int
    private var attempts: [String: [Attempt]] = [:]
    private var expiries = ExpiryBuckets<String>()
    /// A busy client's attempt waiting for its turn.
    private struct Waiter {
        let id: Int
        let now: Int64
        let continuation: CheckedContinuation<AttemptReservation, Never>
    }

    /// Busy clients' attempts, oldest first: a place that frees up is handed to the oldest, so none is overtaken.
    private var waiting: [String: [Waiter]] = [:]
    private var nextWaiter = 0

    init(limit: Int = 10, window: Int64 = 60, maximumClients: Int = 100_000) {
        self.limit = limit
        self.window = window
        self.maximumClients = maximumClients
    }

    /// Seconds the client must wait, or nil when it may try.
    func retryAfter(client: String, now: Int64) -> Int64? {
        let failures = recent(client, now: now).filter(\.failed)
        return Self.wait(count: failures.count, oldest: failures.map(\.at).min(), limit: limit, window: window, now: now)
    }

    /// Number of client addresses with attempts on record.
    var trackedClients: Int { attempts.count }

    /// Counts one attempt about to be judged; or says it must wait for attempts in flight, or how long the client
    /// is blocked.
    func reserve(client: String, now: Int64) -> AttemptReservation {
        var recent = recent(client, now: now)
        let failures = recent.filter(\.failed)
        if let seconds = Self.wait(count: failures.count, oldest: failures.map(\.at).min(), limit: limit, window: window, now: now) {
            return .blocked(retryAfter: seconds)
        }
        if recent.count >= limit { return .busy }
        if attempts[client] == nil && attempts.count >= maximumClients { makeRoom(now: now) }
        let id = AttemptID.randomAttempt()
        recent.append(Attempt(at: now, id: id))
        attempts[client] = recent
        expiries.insert(client, expiresAt: now + window)
        return .granted(id)
    }

    /// Records a reserved attempt as failed; waiting attempts learn whether the client is now blocked.
    func confirm(client: String, id: AttemptID) {
        guard let index = attempts[client]?.firstIndex(where: { $0.id == id }) else { return }
        attempts[client]?[index].failed = true
        serveWaiting(client)
    }

    /// Un-counts an attempt that did not fail, and hands its place to the client's oldest waiting attempt.
    func release(client: String, id: AttemptID) {
        attempts[client]?.removeAll { $0.id == id }
        if attempts[client]?.isEmpty == true {
            attempts[client] = nil
            expiries.remove(client)
        }
        serveWaiting(client)
    }

    /// `reserve`, waiting in line while the client is busy: granted (or blocked) when a place frees up, `busy` after
    /// `patience`.
    func reserve(client: String, now: Int64, patience: Duration) async -> AttemptReservation {
        if waiting[client] == nil {
            let reservation = reserve(client: client, now: now)
            if reservation != .busy { return reservation }
        }
        nextWaiter += 1
        let id = nextWaiter
        return await withCheckedContinuation { continuation in
            waiting[client, default: []].append(Waiter(id: id, now: now, continuation: continuation))
            Task {
                try? await Task.sleep(for: patience)
                self.giveUp(client, id)
            }
        }
    }

    /// Grants the oldest waiting attempts as long as places are free (or tells them the client is blocked).
    private func serveWaiting(_ client: String) {
        while let first = waiting[client]?.first {
            let reservation = reserve(client: client, now: first.now)
            if reservation == .busy { return }
            removeWaiter(client, at: 0).continuation.resume(returning: reservation)
        }
    }

    private func giveUp(_ client: String, _ id: Int) {
        guard let index = waiting[client]?.firstIndex(where: { $0.id == id }) else { return }
        removeWaiter(client, at: index).continuation.resume(returning: .busy)
    }

    private func removeWaiter(_ client: String, at index: Int) -> Waiter {
        let waiter = waiting[client]!.remove(at: index)
        if waiting[client]?.isEmpty == true { waiting[client] = nil }
        return waiter
    }

    /// Forgets the clients whose last attempt is older than the window.
    func sweep(now: Int64) {
        for client in expiries.sweep(now: now + 1) { attempts[client] = nil }
    }

    /// Seconds until the oldest of `count` recent failures leaves the window, when `count` reaches the limit.
    static func wait(count: Int, oldest: Int64?, limit: Int, window: Int64, now: Int64) -> Int64? {
        guard count >= limit, let oldest else { return nil }
        return max(1, oldest + window - now)
    }

    private func recent(_ client: String, now: Int64) -> [Attempt] {
        attempts[client, default: []].filter { $0.at > now - window }
    }

    private func makeRoom(now: Int64) {
        sweep(now: now)
        if attempts.count >= maximumClients, let victim = attempts.keys.first {
            attempts[victim] = nil
            expiries.remove(victim)
        }
    }
}
