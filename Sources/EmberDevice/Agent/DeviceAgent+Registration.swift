import EmberCore
import Foundation
import Logging

/// Provisioning and crash-safe registration with the cloud (seed 000, EVE's marker of seed 004).
extension DeviceAgent {
    /// What the pending-registration marker holds, sealed with the board's config-partition key.
    struct PendingRegistration: Codable, Sendable {
        var key: String
        var url: String
        var startedAt: Int64
        /// A zero-touch enrollment holds the marker (EVE's lock); it has no key.
        var zeroTouch: Bool?
        enum CodingKeys: String, CodingKey {
            case key, url
            case startedAt = "started_at"
            case zeroTouch = "zero_touch"
        }
    }

    /// `POST /api/identity`: burns the UUID, the product and a fresh master key in one step.
    public func provision(_ request: IdentityRequest) async throws {
        if try identity() != nil { throw AgentFailure.alreadyProvisioned }
        let (uuid, productHex) = try request.validated()
        guard productHex == board.product else {
            throw AgentFailure.invalidInput(
                "Field product_hex \(productHex) does not match this board (\(board.product) \(board.product.productID)), see docs"
            )
        }
        let board = self.board
        do {
            try await offload { () throws(HardwareError) in
                try board.burnIdentity(IdentityBlock(uuid: uuid, productHex: productHex), masterKey: .random())
            }
        } catch .hardware(.alreadyProvisioned) {
            throw AgentFailure.alreadyProvisioned
        }
        event(.notify, "Wrote device identity")
        logger.notice("identity burned", metadata: ["ember.device.uuid": "\(DeviceUUID.format(uuid))", "ember.device.product": "\(productHex)"])
        try await writeInitialConfig(region: request.region, fleetID: request.fleetID)
        refreshDisplay()
        // FireFly checks as soon as an identity and the time are there; so does Ember. A board with onboarding
        // files enrolls by itself instead.
        if clockSynchronized, let identity = try? board.identity(), await startZeroTouch(identity: identity) {
            return
        }
        if clockSynchronized, let identity = try? board.identity(), let root = cloudRoot() {
            await replaceRegistrationJob { await self.checkRegistration(identity: identity, root: root) }
        }
    }

    /// `POST /api/registration`: registers with the cloud using a registration key.
    /// `force` registers even when the last factory test failed.
    public func register(key: String?, url: String?, force: Bool = false) async throws(AgentFailure) {
        let identity = try requireIdentity()
        guard !decommissioned else { throw .decommissioned }
        guard networkUp else { throw .provisioningRefused("The device has no network: provision its Wi-Fi first (PUT /api/provisioning)") }
        guard clockSynchronized else { throw .clockNotSynchronized }
        guard let key, key.count == 6 else { throw .invalidInput(WireError.registrationKeyHeader.message) }
        if let url, let problem = DeviceConfig.cloudURLProblem(url, allowInsecure: configuration.allowInsecureCloud), !url.isEmpty {
            throw .invalidInput("Field url \(problem)")
        }
        guard let root = url.flatMap({ $0.isEmpty ? nil : $0 }) ?? cloudRoot() else {
            throw .invalidInput("Field url is required: this device has no cloud configured")
        }
        if let failed = factoryTest?.summary.failed?.filter(Self.registrationGateChecks.contains), !failed.isEmpty, !force {
            throw .factoryChecksFailed(failed)
        }
        guard !registering else { throw .registrationInProgress }
        registering = true
        defer { registering = false }
        await replaceRegistrationJob(with: nil)

        let pending = PendingRegistration(key: key, url: root, startedAt: clock.epochSeconds())
        try await writeSealed(pending, to: Files.pendingRegistration)
        board.checkpoint(.registrationMarkerWritten)
        let outcome: DeviceCloud.Registration
        do {
            outcome = try await cloud.register(identity: identity, key: key, root: root, manufacturing: manufacturingFields)
        } catch {
            throw .hardware(error)
        }
        switch outcome {
        case .accepted:
            try await finishRegistration(root: root)
            await checkRegistration(identity: identity, root: root)
        case .keyRefused:
            await removePending()
            event(.notify, "Cloud reg fail")
            throw .keyRefused
        case .refused(let status, let message):
            await removePending()
            event(.notify, "Cloud reg fail")
            logger.warning("cloud refused the registration", metadata: ["ember.cloud.status": "\(status)", "ember.cloud.message": "\(message)"])
            throw .cloudRefused(.registration, status: status, message: message)
        case .unavailable(let reason):
            event(.notify, "Cloud reg fail")
            logger.warning("registration failed; retrying in the background", metadata: ["ember.reason": "\(reason)"])
            await replaceRegistrationJob { await self.resumeRegistration(pending, identity: identity, startWithDelay: true) }
            throw .cloudUnreachable(.registration, retrying: true)
        }
    }

    func finishRegistration(root: String) async throws(AgentFailure) {
        board.checkpoint(.registrationAccepted)
        await removePending()
        do {
            try await saveCloudRoot(root)
        } catch {
            // The cloud accepted: the registration stands even when the configuration cannot take the URL now.
            logger.error("the registration's cloud URL could not be saved", metadata: ["ember.error": "\(APIErrorText.of(error))"])
        }
        registration = .known(registered: true, checkedAt: clock.epochSeconds(), cloudRoot: root)
        event(.info, "Cloud registered")
        refreshDisplay()
        startCheckIns()
    }

    /// Retries a pending registration until it is decided: capped exponential backoff with jitter on the agent's
    /// clock, and before each try the signed check, so a device registered out of band finishes without spending
    /// the key. Only transport failures and server-side statuses are retried.
    func resumeRegistration(_ pending: PendingRegistration, identity: IdentityBlock, startWithDelay: Bool = false) async {
        var attempt = startWithDelay ? 1 : 0
        while !Task.isCancelled {
            if attempt > 0 {
                do { try await clock.sleep(for: retryDelay(attempt: attempt), on: .registrationRetry) } catch { return }
            }
            attempt += 1
            // The out-of-band probe: a device the cloud already knows is done, and no key is spent.
            switch await cloud.check(identity: identity, root: pending.url) {
            case .registered:
                try? await finishRegistration(root: pending.url)
                return
            case .notRegistered:
                break
            case .signatureRefused(let reason), .failed(let reason):
                if attempt == 1 || attempt % 10 == 0 { event(.notify, "Cloud reg fail") }
                logger.info(
                    "pending registration: cloud check failed; retrying",
                    metadata: ["ember.attempt": "\(attempt)", "ember.reason": "\(reason)"]
                )
                continue
            case .localFailure(let error):
                await giveUpPending(pending, message: "Key derivation failed", error: error)
                return
            case .decommissioned:
                await giveUpPending(pending, message: "Device decommissioned", error: nil)
                startCheckIns()
                return
            }
            let outcome: DeviceCloud.Registration
            do {
                outcome = try await cloud.register(identity: identity, key: pending.key, root: pending.url, manufacturing: manufacturingFields)
            } catch {
                await giveUpPending(pending, message: "Key derivation failed", error: error)
                return
            }
            switch outcome {
            case .accepted:
                try? await finishRegistration(root: pending.url)
                await checkRegistration(identity: identity, root: pending.url)
                return
            case .keyRefused, .refused:
                await giveUpPending(pending, message: "Invalid or expired registration key", error: nil)
                return
            case .unavailable(let reason):
                if attempt == 1 || attempt % 10 == 0 { event(.notify, "Cloud reg fail") }
                logger.info("pending registration not done; retrying", metadata: ["ember.attempt": "\(attempt)", "ember.reason": "\(reason)"])
            }
        }
    }

    private func giveUpPending(_ pending: PendingRegistration, message: String, error: HardwareError?) async {
        if let error { logger.error("pending registration stopped by a local failure", metadata: ["ember.error": "\(error)"]) }
        await removePending()
        event(.notify, "Cloud reg fail")
        registration = .failed(message: message, checkedAt: clock.epochSeconds(), cloudRoot: pending.url)
    }

    /// The signed registration check with its events; the result becomes the registration state.
    func checkRegistration(identity: IdentityBlock, root: String) async {
        event(.info, "Cloud reg check")
        let result = await cloud.check(identity: identity, root: root)
        let now = clock.epochSeconds()
        switch result {
        case .registered:
            registration = .known(registered: true, checkedAt: now, cloudRoot: root)
            log.resolve("Cloud reg sig vf fail")
            event(.info, "Cloud registered")
            startCheckIns()
        case .notRegistered:
            registration = .known(registered: false, checkedAt: now, cloudRoot: root)
        case .signatureRefused(let message):
            registration = .failed(message: message, checkedAt: now, cloudRoot: root)
            event(.error, "Cloud reg sig vf fail")
        case .failed(let message):
            registration = .failed(message: message, checkedAt: now, cloudRoot: root)
            event(.notify, "Cloud reg fail")
        case .decommissioned:
            registration = .failed(message: "Device decommissioned", checkedAt: now, cloudRoot: root)
            event(.notify, "Cloud: decommissioned")
            startCheckIns()  // the check-in delivers the decommission action
        case .localFailure(let error):
            logger.error("registration check: local failure", metadata: ["ember.error": "\(error)"])
            registration = .failed(message: "Key derivation failed", checkedAt: now, cloudRoot: root)
            event(.error, "Key derivation fail")
        }
        refreshDisplay()
    }

    /// `GET /api/registration`.
    public func registrationStatus() throws(AgentFailure) -> RegistrationState {
        _ = try requireIdentity()
        return registration
    }

    /// Whether a registration waits to be finished (the marker is on the config partition).
    public var registrationPending: Bool { board.config.exists(Files.pendingRegistration) }

    func pendingRegistration() async -> PendingRegistration? {
        switch readSealed(PendingRegistration.self, from: Files.pendingRegistration) {
        case .absent: return nil
        case .value(let pending): return pending
        case .unreadable:
            logger.error("the pending-registration marker is unreadable; removing it")
            await removePending()
            return nil
        }
    }

    func removePending() async {
        let partition = board.config
        _ = try? await offload { () throws(HardwareError) in try partition.remove(Files.pendingRegistration) }
    }

    /// Ember's fields of the registration body: region and fleet from the configuration, the firmware version, the
    /// last factory test.
    var manufacturingFields: ManufacturingFields {
        ManufacturingFields(
            region: config.region.isEmpty ? nil : config.region,
            fleetID: config.fleetID.isEmpty ? nil : config.fleetID,
            firmwareVersion: firmwareVersion,
            factoryTest: factoryTest?.summary
        )
    }
}
