import Crypto
import EmberClient
import EmberCore
import EmberPKI
import Foundation
import Logging
import NIOHTTP1
import X509

/// Zero-touch onboarding (lifecycle §6, EVE's flow of seed 004): a board with an identity, onboarding files and no
/// device certificate enrolls by itself, and keeps trying — the registry may pre-register it later.
extension DeviceAgent {
    /// The onboarding files are there and no device certificate is saved yet.
    var zeroTouchPending: Bool {
        board.config.exists(OnboardingFiles.certificate) && board.config.exists(OnboardingFiles.key)
            && !board.config.exists(OnboardingFiles.deviceCertificate)
    }

    /// The cloud URL the factory put beside the onboarding files (EVE's `server`); nil when there is none.
    var onboardingServer: String? {
        let server = (try? board.config.read(OnboardingFiles.server)).map { String(decoding: $0, as: UTF8.self) }
        return server.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `GET /api/zero-touch`: the enrollment, or `enrolled` with the saved certificate, or `off`.
    public func zeroTouchStatus() -> ZeroTouchStatus {
        var status = zeroTouch
        if let data = try? board.config.read(OnboardingFiles.deviceCertificate),
            let certificate = try? PEMText.certificate(String(decoding: data, as: UTF8.self), what: "device certificate")
        {
            status.state = .enrolled
            status.certificateSubject = "\(certificate.subject)"
            status.certificateNotAfter = Int64(certificate.notValidAfter.timeIntervalSince1970)
        } else if status.state == .off && zeroTouchPending {
            status.state = .enrolling
        }
        if status.serial == nil, let data = try? board.config.read(OnboardingFiles.certificate),
            let certificate = try? PEMText.certificate(String(decoding: data, as: UTF8.self), what: "onboarding certificate")
        {
            status.serial = OnboardingName.serial(of: certificate)
        }
        return status
    }

    /// Starts the enrollment when it is due; false when the board registers by key instead.
    func startZeroTouch(identity: IdentityBlock) async -> Bool {
        guard zeroTouchPending, !decommissioned else { return false }
        guard let root = cloudRoot() ?? onboardingServer else {
            zeroTouch.state = .failed
            zeroTouch.message = "No cloud configured: the config partition has no server file"
            event(.error, "Zero-touch failed")
            return true
        }
        zeroTouch.state = .enrolling
        await replaceRegistrationJob { await self.enroll(identity: identity, root: root) }
        return true
    }

    /// The enrollment loop: the pending marker, then rounds of the signed probe (a board registered out of band is
    /// done) and the enrollment, with capped exponential backoff and jitter, forever on 403, 5xx or no answer.
    func enroll(identity: IdentityBlock, root: String) async {
        let marker = PendingRegistration(key: "", url: root, startedAt: clock.epochSeconds(), zeroTouch: true)
        do { try await writeSealed(marker, to: Files.pendingRegistration) } catch {
            logger.error("cannot write the zero-touch marker", metadata: ["ember.error": "\(APIErrorText.of(error))"])
        }
        board.checkpoint(.enrollmentMarkerWritten)
        event(.info, "Zero-touch enroll")
        var attempt = 0
        while !Task.isCancelled {
            if attempt > 0 {
                do { try await clock.sleep(for: retryDelay(attempt: attempt), on: .registrationRetry) } catch { return }
            }
            attempt += 1
            zeroTouch.attempts = attempt
            switch await cloud.check(identity: identity, root: root) {
            case .registered:
                // Registered out of band (or the enrollment's reply was lost): fetch the certificate for the key.
                if await fetchCertificate(identity: identity, root: root) { return }
                continue
            case .decommissioned:
                await stopZeroTouch("Device decommissioned")
                startCheckIns()
                return
            case .localFailure(let error):
                logger.error("zero-touch: local failure", metadata: ["ember.error": "\(error)"])
                await stopZeroTouch("Key derivation failed")
                return
            case .notRegistered, .signatureRefused, .failed:
                break
            }
            switch await enrollOnce(identity: identity, root: root) {
            case .enrolled(let pem):
                board.checkpoint(.enrollmentAccepted)
                await saveDeviceCertificate(pem, root: root)
                return
            case .retry(let reason):
                zeroTouch.message = reason
                if attempt == 1 || attempt % 10 == 0 { event(.notify, "Zero-touch pending") }
                logger.info("zero-touch enrollment not done; retrying", metadata: ["ember.attempt": "\(attempt)", "ember.reason": "\(reason)"])
            case .refused(let reason):
                await stopZeroTouch(reason)
                return
            }
        }
    }

    enum EnrollmentRound {
        case enrolled(String)
        case retry(String)
        case refused(String)
    }

    private func enrollOnce(identity: IdentityBlock, root: String) async -> EnrollmentRound {
        guard cloud.reachable else { return .retry("Cloud unreachable") }
        let key: P256.Signing.PrivateKey
        let body: Data
        do {
            guard let keyPEM = try board.config.read(OnboardingFiles.key), let certificate = try board.config.read(OnboardingFiles.certificate),
                let parsed = try? P256.Signing.PrivateKey(pemRepresentation: String(decoding: keyPEM, as: UTF8.self))
            else { return .refused("The onboarding key or certificate on the config partition is unreadable") }
            key = parsed
            let chain = try board.config.read(OnboardingFiles.chain).map { [String(decoding: $0, as: UTF8.self)] } ?? []
            let request = EnrollmentRequest(
                onboardingCertificate: String(decoding: certificate, as: UTF8.self),
                onboardingChain: chain,
                registration: try cloud.registrationBody(identity: identity, manufacturing: manufacturingFields)
            )
            body = try JSONEncoder().encode(request)
        } catch {
            return .refused("The enrollment could not be prepared: \(error)")
        }
        let reply: RegistryClient.Reply
        do {
            let headers = try OnboardingSignature.headers(body: body, key: key, at: DeviceTimestamp(epochSeconds: clock.epochSeconds()))
            reply = try await cloud.client(root).enroll(body: body, headers: headers)
        } catch {
            return .retry("Cloud unreachable")
        }
        switch reply.status {
        case 200, 201:
            guard let answer = try? JSONDecoder().decode(DeviceCertificateReply.self, from: reply.body) else {
                return .retry("The registry's answer holds no certificate")
            }
            return .enrolled(answer.deviceCertificate)
        case 403, 408, 429, 500...599: return .retry(reply.message)
        default: return .refused(reply.message.isEmpty ? "HTTP \(reply.status)" : reply.message)
        }
    }

    /// The signed `GET /devices/{uuid}/certificate` of a registered board; true when it is settled (saved, or the
    /// cloud issues none — a FireFly cloud).
    private func fetchCertificate(identity: IdentityBlock, root: String) async -> Bool {
        let path = "/devices/\(DeviceUUID.format(identity.uuid))/certificate"
        guard let reply = try? await cloud.signed(.GET, path, identity: identity, root: root) else { return false }
        switch reply.status {
        case 200:
            guard let answer = try? JSONDecoder().decode(DeviceCertificateReply.self, from: reply.body) else { return false }
            await saveDeviceCertificate(answer.deviceCertificate, root: root)
            return true
        case 404:
            await removePending()
            try? await finishRegistration(root: root)
            return true
        default:
            return false
        }
    }

    private func saveDeviceCertificate(_ pem: String, root: String) async {
        let partition = board.config
        do {
            try await offload { () throws(HardwareError) in try partition.write(OnboardingFiles.deviceCertificate, Data(pem.utf8)) }
        } catch {
            logger.error("cannot save the device certificate", metadata: ["ember.error": "\(APIErrorText.of(error))"])
            return
        }
        zeroTouch.state = .enrolled
        zeroTouch.message = nil
        logger.notice("zero-touch enrollment done", metadata: ["ember.onboarding.serial": "\(zeroTouchStatus().serial ?? "")"])
        try? await finishRegistration(root: root)
    }

    private func stopZeroTouch(_ reason: String) async {
        await removePending()
        zeroTouch.state = .failed
        zeroTouch.message = reason
        registration = .failed(message: "Zero-touch failed: \(reason)", checkedAt: clock.epochSeconds(), cloudRoot: "")
        event(.error, "Zero-touch failed")
        refreshDisplay()
    }
}
