import EmberCore
import Synchronization

/// Minting, listing and revoking registration keys for an admin or operator; keys rest sealed (`RegistrationKeySealer`).
public struct RegistrationKeys: Sendable {
    let store: any RegistrationKeyRepository
    let clock: any RegistryClock
    let ttl: Int64
    let metrics: EmberMetrics
    let sealer: RegistrationKeySealer

    init(store: any RegistrationKeyRepository, clock: any RegistryClock, ttl: Int64, metrics: EmberMetrics, sealer: RegistrationKeySealer) {
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.metrics = metrics
        self.sealer = sealer
    }

    /// Checks that this database's keys were sealed with this key-encryption key (recording it on first start), then
    /// seals any key stored in plaintext by an older Ember; returns how many it sealed.
    public func prepare() async throws -> Int {
        let recorded = try await store.keyEncryptionFingerprint(claiming: sealer.fingerprint)
        guard recorded == sealer.fingerprint else {
            throw RegistryError.conflict(
                """
                this database's registration keys are sealed with another key-encryption key (fingerprint \(recorded), this \
                instance has \(sealer.fingerprint)): give every instance the same EMBER_KEY_ENCRYPTION_KEY
                """
            )
        }
        let sealer = sealer
        return try await store.sealPlaintextRegistrationKeys { key in (sealer.lookup(key), try sealer.seal(key)) }
    }

    /// Mints a fresh key for `owner` (retrying the rare collision with an existing key): the key and its expiry.
    func mint(owner: String, client: String) async throws -> RegistrationKeyCreated {
        for _ in 0..<16 {
            let now = clock.now()
            let key = RegistrationKey.generate()
            let record = RegistrationKeyRecord(
                key: sealer.lookup(key),
                sealed: try sealer.seal(key),
                createdBy: owner,
                generatedAt: now,
                expiresAt: now + ttl
            )
            let audit = AuditEvent(
                at: now,
                by: AuditActor(actor: owner, client: client),
                action: "key.minted",
                subject: RegistrationKey.masked(key),
                detail: "expires at \(DeviceTimestamp(epochSeconds: record.expiresAt).text)"
            )
            if try await store.insertRegistrationKey(record, audit: audit) {
                metrics.keyMinted()
                return RegistrationKeyCreated(key: key, expiresAt: record.expiresAt)
            }
        }
        throw RegistryError.conflict("Could not mint a unique registration key; try again")
    }

    /// Mints `count` keys at once (`POST /registration-keys` with `{"count": N}`), with one audit row.
    func mint(count: Int, owner: String, client: String) async throws -> RegistrationKeysCreated {
        let now = clock.now()
        let (sealer, ttl) = (self.sealer, self.ttl)
        // The plain keys exist only in this call: the store keeps their lookups and sealed forms.
        let plain = Mutex<[String: String]>([:])
        let audit = AuditEvent(
            at: now,
            by: AuditActor(actor: owner, client: client),
            action: "key.minted",
            subject: "\(count) keys",
            detail: "expires at \(DeviceTimestamp(epochSeconds: now + ttl).text)"
        )
        let records = try await store.insertRegistrationKeys(
            count: count,
            generate: { wanted in
                try (0..<wanted).map { _ in
                    let key = RegistrationKey.generate()
                    let lookup = sealer.lookup(key)
                    plain.withLock { $0[lookup] = key }
                    return RegistrationKeyRecord(key: lookup, sealed: try sealer.seal(key), createdBy: owner, generatedAt: now, expiresAt: now + ttl)
                }
            },
            audit: audit
        )
        guard let records else { throw RegistryError.conflict("Could not mint \(count) unique registration keys; try again") }
        metrics.keyMinted(count: count)
        return RegistrationKeysCreated(keys: plain.withLock { keys in records.compactMap { keys[$0.key] } }, expiresAt: now + ttl)
    }

    /// `owner`'s active keys, opened, oldest first.
    func active(owner: String) async throws -> [RegistrationKeyInfo] {
        try await store.activeRegistrationKeys(createdBy: owner, now: clock.now()).map {
            RegistrationKeyInfo(key: try sealer.open($0.sealed, lookup: $0.key), generatedAt: $0.generatedAt, expiresAt: $0.expiresAt)
        }
    }

    /// Revokes one of `owner`'s active keys.
    func revoke(_ key: String, owner: String, client: String) async throws {
        let now = clock.now()
        let audit = AuditEvent(at: now, by: AuditActor(actor: owner, client: client), action: "key.revoked", subject: RegistrationKey.masked(key))
        guard try await store.revokeRegistrationKey(sealer.lookup(key), createdBy: owner, now: now, audit: audit) else {
            throw RegistryError.notFound("No active registration key \(RegistrationKey.masked(key)) minted by this token")
        }
    }
}
