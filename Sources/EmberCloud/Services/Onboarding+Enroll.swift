import Crypto
import EmberCore
import EmberPKI
import Foundation
import Logging
import X509

extension Onboarding {
    /// The onboarding headers as sent.
    struct SignatureHeaders: Sendable {
        var timestamp: String?
        var nonce: String?
        var signature: String?
    }

    /// `POST /devices/enroll`, checked in order: headers, body, chain, window, signature, nonce, then the
    /// registration. `created` is false for a repeat by the same device (200 with the certificate it has).
    func enroll(
        body: Data,
        headers: SignatureHeaders,
        audit: AuthFailureAudit,
        client: String,
        logger: Logger
    ) async throws
        -> (created: Bool, reply: DeviceCertificateReply)
    {
        let signed: (timestamp: DeviceTimestamp, nonce: Data, signature: P256.Signing.ECDSASignature)
        let request: EnrollmentRequest
        let registration: DeviceRegistration
        do throws(WireError) {
            signed = try OnboardingSignature.parse(timestamp: headers.timestamp, nonce: headers.nonce, signature: headers.signature)
            request = try WireDecoder.decode(EnrollmentRequest.self, from: body)
            guard let wire = request.registration else { throw WireError("Field registration is required") }
            registration = try wire.validated()
        } catch {
            metrics.enrollment("invalid_body")
            throw RegistryError.badRequest(error.message)
        }
        guard let leafPEM = request.onboardingCertificate else {
            metrics.enrollment("invalid_body")
            throw RegistryError.badRequest("Field onboarding_certificate is required")
        }
        let uuid = DeviceUUID.format(registration.uuid)
        let actor = AuditActor(actor: "device:\(uuid)", client: client)
        let now = clock.now()

        func refuse(_ outcome: String, _ message: String, reason: String) async -> RegistryError {
            metrics.enrollment(outcome)
            logger.info("enrollment refused", metadata: ["ember.device.uuid": "\(uuid)", "ember.reason": "\(reason)"])
            await audit.record(reason: "\(message): \(reason)", subject: uuid, by: actor, now: now)
            return RegistryError.unauthorized(message)
        }

        let storedRoots = try await store.onboardingRoots()
        let onboarded: OnboardingVerifier.Onboarded
        do throws(PKIError) {
            let leaf = try PEMText.certificate(leafPEM, what: "onboarding certificate")
            var intermediates: [Certificate] = []
            for pem in request.onboardingChain ?? [] { intermediates += try PEMText.certificates(pem, what: "onboarding chain") }
            var roots: [Certificate] = []
            for root in storedRoots { roots += try PEMText.certificates(root.pem, what: "stored root") }
            onboarded = try await OnboardingVerifier(roots: roots).verify(
                leaf: leaf,
                intermediates: intermediates,
                at: Date(timeIntervalSince1970: TimeInterval(now))
            )
        } catch {
            throw await refuse("untrusted", "Onboarding certificate not trusted", reason: error.description)
        }
        guard window.contains(signed.timestamp, now: DeviceTimestamp(epochSeconds: now)) else {
            throw await refuse("bad_signature", "X-Onboarding-Timestamp is outside the acceptance window", reason: "clock skew")
        }
        let message = OnboardingSignature.message(timestamp: headers.timestamp ?? "", nonceBase64: headers.nonce ?? "", body: body)
        guard onboarded.publicKey.isValidSignature(signed.signature, for: message) else {
            throw await refuse("bad_signature", "Onboarding signature verification failed", reason: "serial \(onboarded.serial)")
        }
        let expiresAt = max(signed.timestamp.epochSeconds, now) + window.seconds
        guard
            try await store.recordNonce(
                device: "onboarding:\(onboarded.serial)",
                nonce: signed.nonce.base64EncodedString(),
                expiresAt: expiresAt,
                now: now
            )
        else { throw await refuse("replayed", "Nonce already used", reason: "serial \(onboarded.serial)") }

        let certificate = try issue(uuid: uuid, key: registration.publicKey.key, now: now)
        let enrollment = Enrollment(
            registration: registration,
            serial: onboarded.serial,
            requiresPreregistration: mode == .allowList,
            certificatePEM: certificate
        )
        let outcome: EnrollmentOutcome
        do {
            outcome = try await store.enroll(enrollment, now: now, by: AuditActor(actor: "onboarding:\(onboarded.serial)", client: client))
        } catch StoreError.contended {
            throw RegistryError.unavailable("Concurrent enrollments of this device; retry in a second", retryAfter: 1)
        }
        switch outcome {
        case .enrolled(let pem):
            metrics.enrollment("enrolled")
            metrics.registration("registered")
            logger.info("device enrolled", metadata: ["ember.device.uuid": "\(uuid)", "ember.onboarding.serial": "\(onboarded.serial)"])
            return (true, DeviceCertificateReply(deviceCertificate: pem, caCertificate: caPEM))
        case .alreadyEnrolled(let pem):
            metrics.enrollment("repeated")
            return (false, DeviceCertificateReply(deviceCertificate: pem, caCertificate: caPEM))
        case .notPreregistered:
            metrics.enrollment("not_preregistered")
            throw RegistryError.forbidden("Device not pre-registered")
        case .productMismatch(let expected):
            metrics.enrollment("not_preregistered")
            throw RegistryError.forbidden(
                "Device not pre-registered for product \(registration.productHex) (serial \(onboarded.serial) expects \(expected))"
            )
        case .serialTaken:
            metrics.enrollment("conflict")
            throw RegistryError.conflict("Onboarding serial already enrolled by another device")
        case .deviceHasAnotherSerial:
            metrics.enrollment("conflict")
            throw RegistryError.conflict("Device already enrolled with another onboarding serial")
        case .conflictingPublicKey:
            metrics.enrollment("conflict")
            throw RegistryError.conflict("Device already registered with a different public key")
        case .decommissioned:
            metrics.enrollment("conflict")
            throw RegistryError.conflict("Device decommissioned")
        }
    }
}
