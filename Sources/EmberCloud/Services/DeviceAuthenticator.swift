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

    let store: any DeviceRepository
    let nonces: any NonceGuard
    let clock: any RegistryClock
    let window: SignatureWindow
    let requireV2: Bool
    let metrics: EmberMetrics
    let audit: AuthFailureAudit
    let keys = PublicKeyCache()

    init(
        store: any DeviceRepository,
        nonces: any NonceGuard,
        clock: any RegistryClock,
        window: SignatureWindow,
        requireV2: Bool,
        metrics: EmberMetrics,
        audit: AuthFailureAudit
    ) {
        self.audit = audit
        self.store = store
        self.nonces = nonces
        self.clock = clock
        self.window = window
        self.requireV2 = requireV2
        self.metrics = metrics
    }

    /// Returns the stored record of the device that signed the request (`signature` is its parsed headers, or why
    /// they did not parse), or throws the `DeviceAuthError`; every refusal is counted and audited (throttled).
    public func authenticate(_ signature: Result<SignedRequest, DeviceAuthError>, _ facts: RequestFacts) async throws -> DeviceCredential {
        do {
            return try await check(signature.get(), facts)
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

    private func check(_ request: SignedRequest, _ facts: RequestFacts) async throws -> DeviceCredential {
        func fail(_ reason: DeviceAuthError) -> DeviceAuthError { reason }
        guard let uuid = request.uuid, let pathUUID = DeviceUUID.parse(facts.pathUUID), uuid == pathUUID else {
            throw fail(.uuidMismatch)
        }
        let canonical = DeviceUUID.format(uuid)
        guard let credential = try await store.deviceCredential(uuid: canonical), !credential.decommissioned else {
            throw fail(.unknownDevice)
        }
        let now = clock.now()
        guard window.contains(request.timestamp, now: DeviceTimestamp(epochSeconds: now)) else { throw fail(.outsideWindow) }
        if requireV2 && request.version != .v2 { throw fail(.signatureVersionRequired) }
        guard let key = keys.key(for: canonical, encoded: credential.publicKey),
            request.isValid(for: key, method: facts.method, path: facts.target, bodySHA256Hex: SigningInput.bodyHash(facts.body))
        else { throw fail(.badSignature) }
        let expiresAt = max(request.timestamp.epochSeconds, now) + window.seconds
        switch try await nonces.record(device: canonical, nonce: request.nonce, expiresAt: expiresAt, now: now) {
        case .fresh: return credential
        case .replayed: throw fail(.nonceReused)
        case .full:
            throw RegistryError.tooManyRequests("Too many signed requests in flight; retry later", retryAfter: window.seconds)
        }
    }
}
