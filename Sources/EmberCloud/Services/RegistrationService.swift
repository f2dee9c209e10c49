import EmberCore
import Foundation
import Logging

/// Device registration: key check, abuse limit, validation, the atomic store call, audit and metrics.
public struct RegistrationService: Sendable {
    let store: any DeviceRepository & AuditRepository
    let clock: any RegistryClock
    let limiter: any FailureCounter
    let metrics: EmberMetrics
    let sealer: RegistrationKeySealer

    init(
        store: any DeviceRepository & AuditRepository,
        clock: any RegistryClock,
        limiter: any FailureCounter,
        metrics: EmberMetrics,
        sealer: RegistrationKeySealer
    ) {
        self.sealer = sealer
        self.store = store
        self.clock = clock
        self.limiter = limiter
        self.metrics = metrics
    }

    /// Throws 429 when this client has too many recent failed key attempts.
    func checkNotBlocked(client: String) async throws {
        if let retryAfter = try await limiter.retryAfter(client: client, now: clock.now()) { throw rateLimited(retryAfter) }
    }

    private func rateLimited(_ retryAfter: Int64) -> any Error {
        metrics.registration("rate_limited")
        return RegistryError.tooManyRequests("Too many failed registration attempts; retry later", retryAfter: retryAfter)
    }

    /// Validates the body and registers the device with `key`; `true` when a new device was stored.
    @discardableResult
    func register(body: Data, key: String, client: String, logger: Logger) async throws -> Bool {
        let registration: DeviceRegistration
        do {
            registration = try WireDecoder.decode(RegistrationRequest.self, from: body).validated()
        } catch {
            metrics.registration("invalid_body")
            throw RegistryError.badRequest(error.message)
        }
        let uuid = DeviceUUID.format(registration.uuid)
        let now = clock.now()
        let actor = AuditActor(actor: "device:\(uuid)", client: client)
        // The key check is one reserved attempt: it counts against the client's limit until it passes.
        let outcome = try await limiter.attempt(client: client, now: now, blocked: rateLimited) {
            do {
                let reference = RegistrationKeyReference(lookup: sealer.lookup(key), masked: RegistrationKey.masked(key))
                let outcome = try await store.register(registration, key: reference, now: now, by: actor)
                return (outcome, outcome == .invalidKey)
            } catch StoreError.contended {
                // Nothing was written (each losing attempt rolled back and un-spent the key): the device may simply retry.
                metrics.registration("contended")
                throw RegistryError.unavailable("Concurrent registrations of this device; retry in a second", retryAfter: 1)
            }
        }
        switch outcome {
        case .registered:
            metrics.registration("registered")
            logger.info("device registered", metadata: ["ember.device.uuid": "\(uuid)", "ember.key": "\(RegistrationKey.masked(key))"])
            return true
        case .alreadyRegistered:
            metrics.registration("already_registered")
            return false
        case .conflictingPublicKey:
            metrics.registration("conflict")
            await refuse(uuid: uuid, key: key, reason: "different public key", actor: actor, now: now, logger: logger)
            throw RegistryError.conflict("Device already registered with a different public key")
        case .decommissioned:
            metrics.registration("decommissioned")
            await refuse(uuid: uuid, key: key, reason: "device decommissioned", actor: actor, now: now, logger: logger)
            throw RegistryError.conflict("Device decommissioned")
        case .invalidKey:
            metrics.registration("invalid_key")
            await refuse(uuid: uuid, key: key, reason: "invalid or expired key", actor: actor, now: now, logger: logger)
            throw RegistryError.unauthorized("Invalid or expired registration key")
        }
    }

    /// Audits a refusal. A failed audit write is logged and the refusal stands: the caller still gets its 4xx, never a 500.
    private func refuse(uuid: String, key: String, reason: String, actor: AuditActor, now: Int64, logger: Logger) async {
        do {
            try await store.appendAudit([
                AuditEvent(
                    at: now,
                    by: actor,
                    action: "registration.refused",
                    subject: uuid,
                    detail: "\(reason) (key \(RegistrationKey.masked(key)))"
                )
            ])
        } catch {
            logger.error("could not audit a refused registration; the refusal stands", metadata: ["ember.error": "\(error)"])
        }
    }
}
