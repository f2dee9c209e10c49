import Crypto
import EmberCore
import EmberPKI
import Foundation
import Logging
import X509

/// Whether an enrollment needs its serial pre-registered (`allow-list`, the default) or any certificate under a
/// trusted root will do (`any-trusted`).
public enum ZeroTouchMode: String, Sendable, CaseIterable {
    case allowList = "allow-list"
    case anyTrusted = "any-trusted"
}

/// Zero-touch onboarding (lifecycle §6): trusted roots, pre-registrations, enrollment and device certificates.
struct Onboarding: Sendable {
    let store: any OnboardingRepository & GuardRepository & DeviceRepository
    let clock: any RegistryClock
    let window: SignatureWindow
    let mode: ZeroTouchMode
    let deviceCA: CertificateAuthority
    let metrics: EmberMetrics

    /// The device CA's certificate (`GET /ca.pem`).
    var caPEM: String { deviceCA.certificatePEM }

    // MARK: roots

    func addRoot(pem: String, by actor: AuditActor) async throws -> OnboardingRoot {
        let certificates: [Certificate]
        do { certificates = try PEMText.certificates(pem, what: "body") } catch { throw RegistryError.badRequest(error.description) }
        guard certificates.count == 1, let certificate = certificates.first else {
            throw RegistryError.badRequest("Send one root certificate in PEM per request")
        }
        guard case .some(.isCertificateAuthority) = try? certificate.extensions.basicConstraints else {
            throw RegistryError.badRequest(
                "The certificate is not a CA certificate (basicConstraints CA:TRUE): add the root, not a board's certificate"
            )
        }
        guard P256.Signing.PublicKey(certificate.publicKey) != nil else { throw RegistryError.badRequest("Onboarding roots must carry a P-256 key") }
        let now = clock.now()
        let root = OnboardingRoot(
            sha256: PEMText.fingerprint(certificate),
            subject: "\(certificate.subject)",
            notAfter: Int64(certificate.notValidAfter.timeIntervalSince1970),
            addedAt: now,
            addedBy: actor.actor,
            pem: PEMText.of(certificate)
        )
        let audit = AuditEvent(at: now, by: actor, action: "onboarding_root.added", subject: root.sha256, detail: root.subject)
        guard try await store.addOnboardingRoot(root, audit: audit) else {
            throw RegistryError.conflict("This root is already trusted")
        }
        return root
    }

    func roots() async throws -> [OnboardingRoot] { try await store.onboardingRoots() }

    func removeRoot(sha256: String, by actor: AuditActor) async throws {
        let name = sha256.lowercased()
        guard name.count == 64, Hex.decode(name) != nil else {
            throw RegistryError.badRequest("A root is named by the hex SHA-256 of its certificate's DER (64 characters)")
        }
        let audit = AuditEvent(at: clock.now(), by: actor, action: "onboarding_root.removed", subject: name)
        guard try await store.removeOnboardingRoot(sha256: name, audit: audit) else { throw RegistryError.notFound("No such onboarding root") }
    }

    // MARK: pre-registrations

    /// Stores a pre-registration from the API's JSON body.
    func preregister(_ body: Data, by actor: AuditActor) async throws -> Preregistration {
        let request: PreregistrationRequest
        do { request = try WireDecoder.decode(PreregistrationRequest.self, from: body) } catch { throw RegistryError.badRequest(error.message) }
        return try await preregister(request, by: actor)
    }

    func preregister(_ request: PreregistrationRequest, by actor: AuditActor) async throws -> Preregistration {
        var preregistration: Preregistration
        do { preregistration = try request.validated() } catch { throw RegistryError.badRequest(error.message) }
        let now = clock.now()
        preregistration.createdAt = now
        preregistration.createdBy = actor.actor
        let detail = [preregistration.productHex.map { "product \($0)" }, preregistration.fleetID.map { "fleet \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
        let audit = AuditEvent(at: now, by: actor, action: "preregistration.created", subject: preregistration.serial, detail: detail)
        guard try await store.addPreregistration(preregistration, audit: audit) else {
            throw RegistryError.conflict("Serial \(preregistration.serial) is already pre-registered")
        }
        return preregistration
    }

    func preregistrations(limit: Int, after: String?) async throws -> [Preregistration] {
        try await store.preregistrations(limit: limit, after: after)
    }

    func removePreregistration(serial: String, by actor: AuditActor) async throws {
        let audit = AuditEvent(at: clock.now(), by: actor, action: "preregistration.deleted", subject: String(serial.prefix(64)))
        guard try await store.removePreregistration(serial: serial, audit: audit) else {
            throw RegistryError.notFound("Serial not pre-registered")
        }
    }

    // MARK: device certificates

    /// The certificate for the key the device signed with: the stored one, or a new one after a rotation.
    func certificate(for device: DeviceCredential, client: String) async throws -> DeviceCertificateReply {
        // The key that signed this request: a pending key is promoted by that very signature.
        guard let active = device.keys.first(where: { $0.epoch == device.signedWith }) else {
            throw RegistryError.notFound("Device not registered")
        }
        if let stored = try await store.deviceCertificate(uuid: device.uuid), stored.epoch == active.epoch {
            return DeviceCertificateReply(deviceCertificate: stored.pem, caCertificate: caPEM)
        }
        guard let key = try? DevicePublicKey(base64: active.publicKey) else { throw RegistryError.notFound("Device key unreadable") }
        let now = clock.now()
        let pem = try issue(uuid: device.uuid, key: key.key, now: now)
        try await store.saveDeviceCertificate(
            StoredDeviceCertificate(uuid: device.uuid, epoch: active.epoch, pem: pem, issuedAt: now),
            audit: AuditEvent(
                at: now,
                by: AuditActor(actor: "device:\(device.uuid)", client: client),
                action: "device.certificate_issued",
                subject: device.uuid,
                detail: "key epoch \(active.epoch)"
            )
        )
        metrics.enrollment("certificate_issued")
        return DeviceCertificateReply(deviceCertificate: pem, caCertificate: caPEM)
    }

    func issue(uuid: String, key: P256.Signing.PublicKey, now: Int64) throws -> String {
        PEMText.of(try deviceCA.issueDevice(uuid: uuid, publicKey: key, now: Date(timeIntervalSince1970: TimeInterval(now))))
    }
}
