import EmberClient
import EmberCore
import Foundation
import Logging
import NIOHTTP1

/// Decommissioning (lifecycle §2): log first, a sealed marker, the notice, a secure wipe, the factory state. Every
/// step can lose power: a boot that finds the marker or the stamp finishes the job the same way.
extension DeviceAgent {
    /// Who started a decommission.
    public enum DecommissionReason: String, Codable, Sendable {
        case local, remote
    }

    /// What the sealed `decommission-pending` marker holds: enough to send the notice after everything else is gone.
    struct DecommissionMarker: Codable, Sendable {
        var reason: DecommissionReason
        var actionID: Int64?
        /// The registry to tell.
        var url: String?
        /// The device log up to and including `Decommissioning`.
        var events: [Event]
        /// The rotated key in use (the registry retired epoch 0); nil for epoch 0, which BLOCK3 still derives.
        var key: RotatedKey?
        var startedAt: Int64

        enum CodingKeys: String, CodingKey {
            case reason, url, events, key
            case actionID = "action_id"
            case startedAt = "started_at"
        }
    }

    /// The factory state's record of a decommission (not secret).
    struct DecommissionStamp: Codable, Sendable {
        var reason: DecommissionReason
        var decommissionedAt: Int64

        enum CodingKeys: String, CodingKey {
            case reason
            case decommissionedAt = "decommissioned_at"
        }
    }

    /// Files the factory state of a decommissioned board keeps: the marker while the notice is owed, the stamp and the
    /// log started after the wipe.
    static let factoryStateFiles: Set<String> = [Files.pendingDecommission, Files.decommissioned, EventLog.eventsFile, EventLog.errorsFile]

    /// `POST /api/decommission`: `confirmation` must be this device's UUID. Returns whether the registry was told.
    public func decommissionLocally(confirmation: String?) async throws(AgentFailure) -> Bool {
        let identity = try requireIdentity()
        guard let confirmation, DeviceUUID.parse(confirmation) == identity.uuid else {
            throw .invalidInput("Confirmation uuid does not match this device")
        }
        return try await decommission(reason: .local, actionID: nil)
    }

    /// The decommission itself; returns whether the notice landed. The session restarts in the factory state.
    func decommission(reason: DecommissionReason, actionID: Int64?) async throws(AgentFailure) -> Bool {
        let identity = try requireIdentity()
        guard !decommissioned else { throw .decommissioned }
        guard !decommissioning else { throw .decommissioned }
        decommissioning = true
        defer { decommissioning = false }

        // 1. Log first, durably.
        event(.notify, "Decommissioning")
        logger.notice("decommissioning", metadata: ["ember.reason": "\(reason.rawValue)", "ember.action.id": "\(actionID.map(String.init) ?? "-")"])
        let log = self.log
        try await offload { () throws(HardwareError) in try log.flush() }
        board.checkpoint(.decommissionLogged)

        // 2. The sealed marker: the notice can be sent after the wipe, even with a rotated key.
        let key: RotatedKey?
        do { key = try DeviceKeyStore(board: board).load(DeviceKeyStore.current) } catch { throw .hardware(error) }
        let marker = DecommissionMarker(
            reason: reason,
            actionID: actionID,
            url: cloudRoot(),
            events: log.events,
            key: key,
            startedAt: clock.epochSeconds()
        )
        try await writeSealed(marker, to: Files.pendingDecommission)
        board.checkpoint(.decommissionMarkerWritten)

        // 3. The notice; an unreachable registry is told later (every boot, every check-in interval).
        let notified = await sendNotice(marker, identity: identity)
        if notified { board.checkpoint(.decommissionNotified) }

        // 4. The wipe, then 5. the factory state.
        try await wipeForDecommission(reason: reason, keepMarker: !notified)
        board.checkpoint(.decommissionWiped)
        if notified { _ = try? await offload { [board] () throws(HardwareError) in try board.config.remove(Files.pendingDecommission) } }
        requestReboot(announce: false)
        return notified
    }

    /// Erases the config partition but the factory state (the marker when `keepMarker`): secret files are
    /// overwritten before unlink, the folder fsynced, the stamp written last, the event log emptied.
    func wipeForDecommission(reason: DecommissionReason, keepMarker: Bool) async throws(AgentFailure) {
        let partition = board.config
        let log = self.log
        let stamp = DecommissionStamp(reason: reason, decommissionedAt: clock.epochSeconds())
        let data: Data
        do { data = try JSONEncoder().encode(stamp) } catch { throw .hardware(.storage("cannot encode the decommission stamp")) }
        try await offload { () throws(HardwareError) in
            for name in partition.names() where !(keepMarker && name == Files.pendingDecommission) {
                guard name != Files.decommissioned else { continue }
                try partition.securelyRemove(name)
            }
            log.erase()
            try partition.write(Files.decommissioned, data)
        }
        logger.notice("config partition wiped", metadata: ["ember.kept": "\(partition.names().joined(separator: ","))"])
    }

    /// At boot: finishes a decommission that lost power, and keeps a decommissioned board in its factory state.
    /// Returns true when the board is decommissioned.
    func resumeDecommission() async -> Bool {
        let partition = board.config
        let stamped = partition.exists(Files.decommissioned)
        guard stamped || partition.exists(Files.pendingDecommission) else { return false }
        if !stamped {
            // Power was lost before the wipe finished: do it again, the marker kept.
            let reason = (await readMarker())?.reason ?? .local
            do {
                try await wipeForDecommission(reason: reason, keepMarker: true)
            } catch {
                logger.error("could not finish the decommission wipe", metadata: ["ember.error": "\(error)"])
            }
        } else {
            // A file written while the wipe ran (or put there since) does not belong to the factory state.
            for name in partition.names() where !Self.factoryStateFiles.contains(name) {
                _ = try? await offload { () throws(HardwareError) in try partition.securelyRemove(name) }
            }
        }
        return true
    }

    /// Retries the notice with capped backoff until the registry answers, then removes the marker.
    func retryDecommissionNotice() async {
        var attempt = 0
        while !Task.isCancelled, let marker = await readMarker() {
            if attempt > 0 {
                let delay = min(configuration.retryCap, min(checkInInterval, configuration.retryBase * pow(2, Double(attempt - 1))))
                do { try await clock.sleep(for: delay * Double.random(in: 0.5...1), on: .decommissionNotice) } catch { return }
            }
            attempt += 1
            guard clockSynchronized, let identity = try? board.identity() else { continue }
            if await sendNotice(marker, identity: identity) {
                let partition = board.config
                _ = try? await offload { () throws(HardwareError) in try partition.remove(Files.pendingDecommission) }
                event(.info, "Decommission notified")
                return
            }
        }
    }

    /// Sends the notice; true when the registry answered 200 (or no longer knows the device, 404).
    func sendNotice(_ marker: DecommissionMarker, identity: IdentityBlock) async -> Bool {
        guard let root = marker.url else {
            logger.warning("no cloud configured: the decommission notice cannot be sent")
            return true
        }
        let notice = DecommissionNotice(
            reason: marker.reason.rawValue,
            actionID: marker.actionID,
            events: marker.events.suffix(DecommissionNotice.maxEvents).map {
                DecommissionNotice.LogEntry(time: $0.time, level: $0.level.rawValue, text: $0.text)
            }
        )
        var key: SigningIdentity?
        if let rotated = marker.key { key = try? SigningIdentity(epoch: rotated.epoch, key: rotated.signingKey()) }
        do {
            let reply = try await cloud.signedJSON(
                .POST,
                "/devices/\(DeviceUUID.format(identity.uuid))/decommission",
                notice,
                identity: identity,
                root: root,
                key: key
            )
            switch reply.status {
            case 200, 404:
                return true
            default:
                logger.warning(
                    "decommission notice refused",
                    metadata: ["ember.cloud.status": "\(reply.status)", "ember.cloud.message": "\(reply.message)"]
                )
                return false
            }
        } catch {
            logger.info("decommission notice not delivered; retrying later", metadata: ["ember.reason": "\(error)"])
            return false
        }
    }

    /// `plain` in an FFCE container under the configfs key (which exists once the identity is burned).
    func seal(_ plain: Data) throws(AgentFailure) -> Data {
        do {
            return try FFCEContainer.seal(plain, using: board.deriveKey(.configfs))
        } catch let error as HardwareError {
            throw .hardware(error)
        } catch {
            throw .hardware(.encryptionFailed)
        }
    }

    func readMarker() async -> DecommissionMarker? {
        switch readSealed(DecommissionMarker.self, from: Files.pendingDecommission) {
        case .absent: return nil
        case .value(let marker): return marker
        case .unreadable:
            logger.error("the decommission marker is unreadable; the notice cannot be sent")
            return nil
        }
    }

    /// What a sealed file on the config partition holds.
    enum Sealed<Value> {
        case absent
        /// It does not open with this board's configfs key, or does not decode.
        case unreadable
        case value(Value)
    }

    /// Reads a file `writeSealed` wrote.
    func readSealed<Value: Decodable>(_ type: Value.Type, from name: String) -> Sealed<Value> {
        guard let sealed = try? board.config.read(name) else { return .absent }
        guard let key = try? board.deriveKey(.configfs), let plain = try? FFCEContainer.open(sealed, using: key),
            let value = try? JSONDecoder().decode(type, from: plain)
        else { return .unreadable }
        return .value(value)
    }

    /// Seals a value with the configfs key and writes it durably.
    func writeSealed(_ value: some Encodable, to name: String) async throws(AgentFailure) {
        let plain: Data
        do { plain = try JSONEncoder().encode(value) } catch { throw .hardware(.storage("cannot encode \(name)")) }
        let sealed = try seal(plain)
        let partition = board.config
        try await offload { () throws(HardwareError) in try partition.write(name, sealed) }
    }
}
