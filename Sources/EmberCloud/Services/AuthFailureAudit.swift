import EmberCore

/// Writes auth failures to the audit log at most once per client and reason per minute, counting the rest.
actor AuthFailureAudit {
    private struct Key: Hashable, Sendable {
        let client: String
        let reason: String
    }

    private let store: any AuditRepository
    private let interval: Int64
    private var lastWritten: [Key: Int64] = [:]
    private var suppressed: [Key: Int] = [:]
    private var expiries = ExpiryBuckets<Key>()

    init(store: any AuditRepository, interval: Int64 = 60) {
        self.store = store
        self.interval = interval
    }

    /// Records one failure; writes a row when this client and reason have not been written in the last interval.
    func record(reason: String, subject: String, by actor: AuditActor, now: Int64) async {
        let key = Key(client: actor.client, reason: reason)
        if let last = lastWritten[key], now - last < interval {
            suppressed[key, default: 0] += 1
            return
        }
        lastWritten[key] = now
        expiries.insert(key, expiresAt: now + interval)
        let more = suppressed.removeValue(forKey: key) ?? 0
        let detail = more > 0 ? "\(reason) (+\(more) more in the last \(interval) s)" : reason
        try? await store.appendAudit([AuditEvent(at: now, by: actor, action: "auth.failed", subject: subject, detail: detail)])
    }

    /// A request path fit for the audit log: a registration key in it masked (`/registration-keys/AB****`), and at
    /// most 128 characters.
    static func subject(path: String) -> String {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for index in segments.indices.dropFirst() where segments[index - 1] == "registration-keys" {
            segments[index] = RegistrationKey.masked(segments[index])
        }
        let joined = segments.joined(separator: "/")
        let scalars = joined.unicodeScalars
        return scalars.count <= 128 ? joined : String(String.UnicodeScalarView(scalars.prefix(127))) + "…"
    }

    /// Forgets the throttles whose interval is over (their suppressed counts go with them).
    func sweep(now: Int64) {
        for key in expiries.sweep(now: now + 1) {
            lastWritten[key] = nil
            suppressed[key] = nil
        }
    }

    /// Number of (client, reason) throttles held.
    var trackedKeys: Int { lastWritten.count }
}
