import EmberClient
import EmberCore
import Foundation
import Logging
import NIOHTTP1

/// Field provisioning (lifecycle §7, seed 003): a Wi-Fi board without a network advertises its access point and
/// waits for `PUT /api/provisioning`; then it joins the network, synchronizes its clock, validates its registration,
/// claims itself for the user's account and becomes operational. The step under way is kept sealed on the config
/// partition, so a restart resumes it; a failure is kept too, until the next `PUT` or a factory reset.
extension DeviceAgent {
    /// What `provisioning.json` holds: the step, and what the remaining steps need.
    struct ProvisioningRecord: Codable, Sendable {
        var state: ProvisioningStatus.State
        var ssid: String?
        var password: String?
        var cloudURL: String?
        var claimToken: String?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case state, ssid, password, error
            case cloudURL = "cloud_url"
            case claimToken = "claim_token"
        }
    }

    /// `FireFly-` and the last 4 hex digits of the Wi-Fi MAC; nil on a wired board.
    var accessPointSSID: String? {
        guard board.usesWiFi else { return nil }
        return "FireFly-" + wifiMACTail(bytes: 2)
    }

    /// `GET /api/provisioning`; while a zero-touch board waits for its enrollment, the registry's last answer.
    public func provisioningStatus() -> ProvisioningStatus {
        var status = provisioning
        if status.state == .validating, status.error == nil, zeroTouch.state == .enrolling { status.error = zeroTouch.message }
        return status
    }

    /// At boot: a wired board has its network; a Wi-Fi board has none until it joins.
    func resetNetwork() {
        networkUp = !board.usesWiFi
        provisioning = ProvisioningStatus(state: board.usesWiFi ? .provisioning : .operational, apSSID: accessPointSSID)
    }

    /// The session's first step: true once the board has a network. A Wi-Fi board joins its configured network; one
    /// with none (or with provisioning under way, or failed) stays off the network, and the provisioning steps carry
    /// on from `PUT /api/provisioning` or the record left by the last session.
    func bringUpNetwork() async -> Bool {
        guard board.usesWiFi else { return true }
        switch readSealed(ProvisioningRecord.self, from: Files.provisioning) {
        case .value(let record) where record.state == .failed:
            provisioning.state = .failed
            provisioning.error = record.error
            refreshDisplay()
            return false
        case .value(let record) where record.state != .operational && record.ssid != nil:
            if let identity = try? board.identity() {
                event(.info, "Provisioning resume")
                await replaceRegistrationJob { await self.runProvisioning(record, identity: identity) }
                return false
            }
        case .unreadable:
            logger.error("the provisioning record is unreadable; removing it")
            await removeProvisioningRecord()
        default:
            break
        }
        guard !config.wifi.ssid.isEmpty else {
            provisioning.state = .provisioning
            event(.notify, "Provisioning mode")
            refreshDisplay()
            return false
        }
        let password = config.wifi.sealedPassword.flatMap(unsealPassword)
        // A network out of range today may be back tomorrow: this failure is not recorded, the next boot tries again.
        guard await join(ssid: config.wifi.ssid, password: password, recordFailure: false) else { return false }
        provisioning.state = .operational
        refreshDisplay()
        return true
    }

    /// `PUT /api/provisioning`: checks the request, records it sealed, and starts the steps; returns the status the
    /// `202` shows.
    public func startProvisioning(_ request: ProvisioningRequest) async throws(AgentFailure) -> ProvisioningStatus {
        guard board.usesWiFi else { throw .provisioningRefused("This board is wired: it has no Wi-Fi to provision") }
        let identity = try requireIdentity()
        guard !decommissioned else { throw .decommissioned }
        if provisioning.inProgress { throw .provisioningRefused("Provisioning already in progress (\(provisioning.state.rawValue))") }
        if provisioning.state == .operational {
            throw .provisioningRefused("The device is operational; change its Wi-Fi in the configuration, or factory-reset it to provision again")
        }
        let fields = try request.validated(allowInsecureCloud: configuration.allowInsecureCloud)
        guard let cloud = fields.cloudURL ?? cloudRoot() ?? onboardingServer else {
            throw .invalidInput("Field cloud_url is required: this device has no cloud configured")
        }
        let record = ProvisioningRecord(
            state: .connecting,
            ssid: fields.ssid,
            password: fields.password,
            cloudURL: cloud,
            claimToken: fields.claimToken
        )
        try await writeSealed(record, to: Files.provisioning)
        provisioning.state = .connecting
        provisioning.error = nil
        logger.notice("field provisioning started", metadata: ["ember.wifi.ssid": "\(fields.ssid)", "ember.cloud": "\(cloud)"])
        await replaceRegistrationJob { await self.runProvisioning(record, identity: identity) }
        return provisioning
    }

    /// The steps, from joining the network to operational; each one an event and an OLED line.
    func runProvisioning(_ start: ProvisioningRecord, identity: IdentityBlock) async {
        var record = start
        guard let ssid = record.ssid, let root = record.cloudURL else { return }
        await step(.connecting, &record)
        guard await join(ssid: ssid, password: record.password), !Task.isCancelled else { return }
        do {
            let wifi: JSONValue = .object(["ssid": .string(ssid), "password": record.password.map(JSONValue.string) ?? .null])
            try await updateConfig(.object(["wifi": wifi]), source: .local)
        } catch {
            await failProvisioning("The Wi-Fi settings could not be saved: \(APIErrorText.of(error))")
            return
        }
        guard await synchronizeClockNow() else {
            if !Task.isCancelled { await failProvisioning("Clock not synchronized (NTP)") }
            return
        }
        await step(.validating, &record)
        if zeroTouchPending {
            // A zero-touch board enrolls now that it has a network: retried until the registry enrolls it.
            zeroTouch.state = .enrolling
            await enroll(identity: identity, root: root)
            guard !Task.isCancelled else { return }
            guard case .known(registered: true, _, _) = registration else {
                await failProvisioning("Zero-touch failed: \(zeroTouch.message ?? "the registry did not enroll the device")")
                return
            }
        } else {
            guard await validate(identity: identity, root: root), !Task.isCancelled else { return }
        }
        if let token = record.claimToken {
            await step(.claiming, &record)
            guard await claim(token, identity: identity, root: root), !Task.isCancelled else { return }
        }
        await removeProvisioningRecord()
        provisioning.state = .operational
        provisioning.error = nil
        event(.notify, "Operational")
        logger.notice("field provisioning done", metadata: ["ember.claimed": "\(record.claimToken != nil)"])
        refreshDisplay()
        startCheckIns()
    }

    /// Moves to `state`, recorded first so a restart resumes here.
    private func step(_ state: ProvisioningStatus.State, _ record: inout ProvisioningRecord) async {
        record.state = state
        do { try await writeSealed(record, to: Files.provisioning) } catch {
            logger.error("cannot record the provisioning step", metadata: ["ember.error": "\(APIErrorText.of(error))"])
        }
        provisioning.state = state
        provisioning.error = nil
        let text: String =
            switch state {
            case .connecting: "WiFi connecting"
            case .validating: "Cloud validating"
            case .claiming: "Device claiming"
            default: "Provisioning"
            }
        event(.info, text)
        refreshDisplay()
    }

    /// Joins `ssid`; on a refusal the provisioning fails with the reason (kept across restarts with `recordFailure`).
    private func join(ssid: String, password: String?, recordFailure: Bool = true) async -> Bool {
        provisioning.state = .connecting
        refreshDisplay()
        switch await board.joinWiFi(ssid: ssid, password: password) {
        case .joined:
            networkUp = true
            event(.info, "WiFi connected")
            logger.info("Wi-Fi joined", metadata: ["ember.wifi.ssid": "\(ssid)"])
            return true
        case .authenticationFailed:
            await failProvisioning("WiFi authentication failed", record: recordFailure)
        case .notFound:
            await failProvisioning("WiFi network \(ssid) not found", record: recordFailure)
        }
        return false
    }

    /// The signed registration check against `root`, retried while the cloud does not answer; saves the cloud URL
    /// once the registry knows the device.
    private func validate(identity: IdentityBlock, root: String) async -> Bool {
        var attempt = 0
        while !Task.isCancelled {
            if attempt > 0 {
                do { try await clock.sleep(for: retryDelay(attempt: attempt), on: .provisioningRetry) } catch { return false }
            }
            attempt += 1
            switch await cloud.check(identity: identity, root: root) {
            case .registered:
                do { try await saveCloudRoot(root) } catch {
                    await failProvisioning("The cloud URL could not be saved: \(APIErrorText.of(error))")
                    return false
                }
                registration = .known(registered: true, checkedAt: clock.epochSeconds(), cloudRoot: root)
                event(.info, "Cloud registered")
                return true
            case .notRegistered:
                await failProvisioning("Device not registered")
            case .signatureRefused(let message):
                await failProvisioning("Device not registered: the cloud refused its signature (\(message))")
            case .decommissioned:
                await failProvisioning("Device decommissioned")
            case .localFailure:
                await failProvisioning("Key derivation failed")
            case .failed(let reason):
                provisioning.error = reason
                if attempt == 1 || attempt % 10 == 0 { event(.notify, "Cloud reg fail") }
                continue
            }
            return false
        }
        return false
    }

    /// `POST /devices/{uuid}/claim`, retried while the cloud does not answer. A retry after a lost reply (or a
    /// restart) is answered 200 by the registry: the token was spent by this device.
    private func claim(_ token: String, identity: IdentityBlock, root: String) async -> Bool {
        let path = "/devices/\(DeviceUUID.format(identity.uuid))/claim"
        var attempt = 0
        while !Task.isCancelled {
            if attempt > 0 {
                do { try await clock.sleep(for: retryDelay(attempt: attempt), on: .provisioningRetry) } catch { return false }
            }
            attempt += 1
            let reply: RegistryClient.Reply
            do {
                reply = try await cloud.signedJSON(.POST, path, ClaimRequest(claimToken: token), identity: identity, root: root)
            } catch .local {
                await failProvisioning("Key derivation failed")
                return false
            } catch {
                provisioning.error = "Cloud unreachable"
                continue
            }
            switch reply.status {
            case 200:
                board.checkpoint(.claimAccepted)
                let account = (try? JSONDecoder().decode(ClaimReply.self, from: reply.body))?.accountID ?? "?"
                event(.notify, "Device claimed")
                logger.notice("device claimed", metadata: ["ember.account": "\(account)"])
                return true
            case 404:
                await failProvisioning("The cloud does not support device claims (HTTP 404)")
            case 408, 500...599:
                provisioning.error = reply.message.isEmpty ? "HTTP \(reply.status)" : reply.message
                continue
            default:
                await failProvisioning(reply.message.isEmpty ? "The cloud refused the claim (HTTP \(reply.status))" : reply.message)
            }
            return false
        }
        return false
    }

    /// Fails the provisioning with `reason`: recorded (without the secrets), shown, logged as an error event.
    private func failProvisioning(_ reason: String, record: Bool = true) async {
        do {
            if record { try await writeSealed(ProvisioningRecord(state: .failed, error: reason), to: Files.provisioning) }
        } catch {
            logger.error("cannot record the provisioning failure", metadata: ["ember.error": "\(APIErrorText.of(error))"])
        }
        provisioning.state = .failed
        provisioning.error = reason
        event(.error, "Provisioning fail")
        logger.warning("field provisioning failed", metadata: ["ember.reason": "\(reason)"])
        refreshDisplay()
    }

    func removeProvisioningRecord() async {
        let partition = board.config
        _ = try? await offload { () throws(HardwareError) in try partition.remove(Files.provisioning) }
    }

    /// The configured Wi-Fi password, opened with the configfs key.
    private func unsealPassword(_ sealed: String) -> String? {
        guard let data = Data(base64Encoded: sealed), let key = try? board.deriveKey(.configfs),
            let plain = try? FFCEContainer.open(data, using: key)
        else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }
}
