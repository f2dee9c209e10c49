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

    /// A request whose headers, device, window and signature version passed, waiting for its body.
    public struct Pending: Sendable {
        let request: SignedRequest
        let credential: DeviceCredential
        let facts: RequestFacts
        let policy: Policy
        let now: Int64
    }

    /// Returns the stored record of the device that signed the request (`signature` is its parsed headers, or why
    /// they did not parse), or throws the `DeviceAuthError`; every refusal is counted and audited (throttled). A
    /// decommissioned device that signed correctly gets 410 unless the policy lets it through.
    public func authenticate(
        _ signature: Result<SignedRequest, DeviceAuthError>,
        _ facts: RequestFacts,
        policy: Policy = .firefly
    ) async throws -> DeviceCredential {
        try await finish(try await begin(signature, facts, policy: policy), body: facts.body)
    }

    /// The checks that need no body (headers, UUID vs path, device known, window, version), so a route can refuse a
    /// stranger before reading what it sends.
    public func begin(
        _ signature: Result<SignedRequest, DeviceAuthError>,
        _ facts: RequestFacts,
        policy: Policy = .firefly
    ) async throws
        -> Pending
    {
        try await audited(facts) {
            let request = try signature.get()
            guard let uuid = request.uuid, let pathUUID = DeviceUUID.parse(facts.pathUUID), uuid == pathUUID else {
                throw DeviceAuthError.uuidMismatch
            }
            let canonical = DeviceUUID.format(uuid)
            guard let credential = try await store.deviceCredential(uuid: canonical, countingOpenActions: policy.countsOpenActions) else {
                throw DeviceAuthError.unknownDevice
            }
            let now = clock.now()
            guard window.contains(request.timestamp, now: DeviceTimestamp(epochSeconds: now)) else { throw DeviceAuthError.outsideWindow }
            if policy.v2Only && request.version != .v2 { throw DeviceAuthError.signatureVersion2Required }
            if requireV2 && request.version != .v2 { throw DeviceAuthError.signatureVersionRequired }
            // v1 binds neither method, path nor body: once a device has signed v2, its v1 headers are refused (a
            // captured v1 boot check cannot be replayed as a DELETE).
            if request.version == .v1 && credential.signsV2Since != nil { throw DeviceAuthError.signatureVersion2Required }
            return Pending(request: request, credential: credential, facts: facts, policy: policy, now: now)
        }
    }

    /// The signature over `body` and the nonce: the device's record, or the refusal.
    public func finish(_ pending: Pending, body: Data) async throws -> DeviceCredential {
        let device = try await audited(pending.facts) { try await verify(pending, body: body) }
        if device.decommissioned && !pending.policy.allowsDecommissioned { throw RegistryError.decommissioned }
        return device
    }

    /// Runs `check`; a `DeviceAuthError` it throws is counted and audited on its way out.
    private func audited<T: Sendable>(_ facts: RequestFacts, _ check: () async throws -> T) async throws -> T {
        do {
            return try await check()
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
    }

    private func verify(_ pending: Pending, body: Data) async throws -> DeviceCredential {
        let request = pending.request
        var credential = pending.credential
        let canonical = credential.uuid
        let now = pending.now
        lazy var bodyHash = SigningInput.bodyHash(body)  // only v2 signs the body; hashed once however many keys are tried
        // The active key first, then a pending one (a rotation under way): both verify until the pending one is used.
        guard
            let used = credential.keys.sorted(by: { !$0.pending && $1.pending }).first(where: { stored in
                guard let key = keys.key(for: "\(canonical)#\(stored.epoch)", encoded: stored.publicKey) else { return false }
                return request.isValid(for: key, method: pending.facts.method, path: pending.facts.target, bodySHA256Hex: bodyHash)
            })
        else { throw DeviceAuthError.badSignature }
        let expiresAt = max(request.timestamp.epochSeconds, now) + window.seconds
        // Recorded in the database, so a request accepted before a restart is refused after it (and by every instance).
        // A device's first v2 signature is recorded with its nonce (one commit): from then on its v1 headers are refused.
        let marks = request.version == .v2 && credential.signsV2Since == nil
        let nonce = request.nonce.base64EncodedString()
        guard try await store.recordNonce(device: canonical, nonce: nonce, expiresAt: expiresAt, now: now, marksSignsV2: marks) else {
            throw DeviceAuthError.nonceReused
        }
        credential.signedWith = used.epoch
        if marks { credential.signsV2Since = now }
        if used.pending, try await store.promoteKey(uuid: canonical, epoch: used.epoch, publicKey: used.publicKey, now: now) {
            metrics.keyRotation("promoted")
        }
        return credential
    }
}
