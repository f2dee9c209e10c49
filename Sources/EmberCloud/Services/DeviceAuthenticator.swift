import EmberCore
import Foundation

/// Checks device-signed requests in the contract's order: headers, UUID vs path, device known, window, signature, nonce.
public struct DeviceAuthenticator: Sendable {
    /// What the route tells the authenticator about the request being checked.
    public struct RequestFacts: Sendable {
        public var pathUUID: String
        public var method: String
        /// Path and query exactly as sent: v2 signs it.
        public var target: String
        public var body: Data
        /// The client's address, for the audit log.
        public var client: String

        public init(pathUUID: String, method: String, target: String, body: Data = Data(), client: String) {
            self.client = client
            self.pathUUID = pathUUID
            self.method = method
            self.target = target
            self.body = body
        }
    }

    /// What a route accepts beyond the contract's checks.
    public struct Policy: Sendable {
        /// Refuse v1 signatures (`Signature version 2 required`): every lifecycle route.
        public var v2Only = false
        /// Let a decommissioned device through (check-in and the decommission notice); others get 410.
        public var allowsDecommissioned = false
        /// Read whether actions wait for the device with its credential (check-in: an idle one is then one read).
        public var countsOpenActions = false

        public static let firefly = Policy()
        public static let lifecycle = Policy(v2Only: true)
        public static let retiring = Policy(v2Only: true, allowsDecommissioned: true)
        public static let checkIn = Policy(v2Only: true, allowsDecommissioned: true, countsOpenActions: true)
    }

    let store: any DeviceRepository & DeviceKeyRepository & GuardRepository
    let clock: any RegistryClock
    let window: SignatureWindow
    let requireV2: Bool
    let metrics: EmberMetrics
    let audit: AuthFailureAudit
    let keys = PublicKeyCache()

    init(
        store: any DeviceRepository & DeviceKeyRepository & GuardRepository,
        clock: any RegistryClock,
        window: SignatureWindow,
        requireV2: Bool,
        metrics: EmberMetrics,
        audit: AuthFailureAudit
    ) {
        self.audit = audit
        self.store = store
        self.clock = clock
        self.window = window
        self.requireV2 = requireV2
        self.metrics = metrics
    }

    /// Returns the stored record of the device that signed the request (`signature` is its parsed headers, or why
    /// they did not parse), or throws the `DeviceAuthError`; every refusal is counted and audited (throttled). A
    /// decommissioned device that signed correctly gets 410 unless the policy lets it through.
    public func authenticate(
        _ signature: Result<SignedRequest, DeviceAuthError>,
        _ facts: RequestFacts,
        policy: Policy = .firefly
    ) async throws -> DeviceCredential {
        let device: DeviceCredential
        do {
            device = try await check(signature.get(), facts, policy: policy)
        } catch let reason as DeviceAuthError {
            metrics.authFailure(reason)
            let subject = String(facts.pathUUID.prefix(64))  // the client chose it: keep audit rows small
            await audit.record(
                reason: reason.message,
                subject: subject,
                by: AuditActor(actor: "device:\(subject)", client: facts.client),
                now: clock.now()
            )
            throw reason
        }
        if device.decommissioned && !policy.allowsDecommissioned { throw RegistryError.decommissioned }
        return device
    }

    private func check(_ request: SignedRequest, _ facts: RequestFacts, policy: Policy) async throws -> DeviceCredential {
        func fail(_ reason: DeviceAuthError) -> DeviceAuthError { reason }
        guard let uuid = request.uuid, let pathUUID = DeviceUUID.parse(facts.pathUUID), uuid == pathUUID else {
            throw fail(.uuidMismatch)
        }
        let canonical = DeviceUUID.format(uuid)
        guard var credential = try await store.deviceCredential(uuid: canonical, countingOpenActions: policy.countsOpenActions) else {
            throw fail(.unknownDevice)
        }
        let now = clock.now()
        guard window.contains(request.timestamp, now: DeviceTimestamp(epochSeconds: now)) else { throw fail(.outsideWindow) }
        if policy.v2Only && request.version != .v2 { throw fail(.signatureVersion2Required) }
        if requireV2 && request.version != .v2 { throw fail(.signatureVersionRequired) }
        let bodyHash = SigningInput.bodyHash(facts.body)
        // The active key first, then a pending one (a rotation under way): both verify until the pending one is used.
        guard
            let used = credential.keys.sorted(by: { !$0.pending && $1.pending }).first(where: { stored in
                guard let key = keys.key(for: "\(canonical)#\(stored.epoch)", encoded: stored.publicKey) else { return false }
                return request.isValid(for: key, method: facts.method, path: facts.target, bodySHA256Hex: bodyHash)
            })
        else { throw fail(.badSignature) }
        let expiresAt = max(request.timestamp.epochSeconds, now) + window.seconds
        // Recorded in the database, so a request accepted before a restart is refused after it (and by every instance).
        let nonce = request.nonce.base64EncodedString()
        guard try await store.recordNonce(device: canonical, nonce: nonce, expiresAt: expiresAt, now: now) else { throw fail(.nonceReused) }
        credential.signedWith = used.epoch
        if used.pending, try await store.promoteKey(uuid: canonical, epoch: used.epoch, publicKey: used.publicKey, now: now) {
            metrics.keyRotation("promoted")
        }
        return credential
    }
}
