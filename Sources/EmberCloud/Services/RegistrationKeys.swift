import EmberCore

/// Minting, listing and revoking registration keys for an admin or operator.
public struct RegistrationKeys: Sendable {
    let store: any RegistrationKeyRepository
    let clock: any RegistryClock
    let ttl: Int64
    let metrics: EmberMetrics

    init(store: any RegistrationKeyRepository, clock: any RegistryClock, ttl: Int64, metrics: EmberMetrics) {
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.metrics = metrics
    }

    /// Mints a fresh key for `owner`; retries the rare collision with an existing key.
    func mint(owner: String, client: String) async throws -> RegistrationKeyRecord {
        for _ in 0..<16 {
            let now = clock.now()
            let record = RegistrationKeyRecord(key: RegistrationKey.generate(), createdBy: owner, generatedAt: now, expiresAt: now + ttl)
            let audit = AuditEvent(
                at: now,
                by: AuditActor(actor: owner, client: client),
                action: "key.minted",
                subject: RegistrationKey.masked(record.key),
                detail: "expires at \(DeviceTimestamp(epochSeconds: record.expiresAt).text)"
            )
            if try await store.insertRegistrationKey(record, audit: audit) {
                metrics.keyMinted()
                return record
            }
        }
        throw RegistryError.conflict("Could not mint a unique registration key; try again")
    }

    func active(owner: String) async throws -> [RegistrationKeyRecord] {
        try await store.activeRegistrationKeys(createdBy: owner, now: clock.now())
    }

    /// Revokes one of `owner`'s active keys.
    func revoke(_ key: String, owner: String, client: String) async throws {
        let now = clock.now()
        let audit = AuditEvent(at: now, by: AuditActor(actor: owner, client: client), action: "key.revoked", subject: RegistrationKey.masked(key))
        guard try await store.revokeRegistrationKey(key.uppercased(), createdBy: owner, now: now, audit: audit) else {
            throw RegistryError.notFound("No active registration key \(RegistrationKey.masked(key)) minted by this token")
        }
    }
}
