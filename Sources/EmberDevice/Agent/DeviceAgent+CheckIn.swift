import Crypto
import EmberClient
import EmberCore
import EmberHTTP
import Foundation
import Logging
import NIOHTTP1

/// The command channel (lifecycle §1): the device calls in, reports, and does what the registry queued for it.
extension DeviceAgent {
    /// An action this device finished, kept so a redelivery is answered without doing it twice.
    struct FinishedAction: Codable, Sendable {
        var id: Int64
        var status: String
        var detail: String
    }

    /// How many finished actions the device remembers.
    static let finishedActionsKept = 64

    /// Starts the check-in loop unless it runs already (called once the registration is known).
    func startCheckIns() {
        guard checkInJob == nil, !decommissioned else { return }
        let job = SessionJob { await self.runCheckIns() }
        checkInJob = job
        start(job)
    }

    /// Checks in now and does what the answer asks; true when the registry answered (tools and benchmarks; the
    /// session checks in on its own schedule).
    public func checkInNow() async -> Bool {
        await checkIn() != nil
    }

    /// Checks in now, then every interval (the device's, lowered by the registry's answer, at least 10 s), until the
    /// session ends.
    func runCheckIns() async {
        await resumeKeyRotation()
        while !Task.isCancelled {
            var interval = max(10, checkInInterval)
            if let answered = await checkIn() { interval = max(10, min(checkInInterval, Double(answered))) }
            do { try await clock.sleep(for: interval, on: .checkIn) } catch { return }
        }
    }

    /// One check-in and (when `acting`) the actions it returns; the registry's interval, or nil when it did not answer.
    @discardableResult
    func checkIn(acting: Bool = true) async -> Int64? {
        guard !decommissioned, !decommissioning, let identity = try? board.identity(), let root = cloudRoot() else { return nil }
        let report = CheckInReport(
            firmwareVersion: firmwareVersion,
            configVersion: DeviceConfig.schemaVersion,
            configHash: config.hash,
            keyEpoch: try? DeviceKeyStore(board: board).currentEpoch(),
            state: "operational",
            uptimeS: Int64(clock.uptime() - bootUptime)
        )
        let reply: RegistryClient.Reply
        do {
            reply = try await cloud.signedJSON(.POST, "/devices/\(DeviceUUID.format(identity.uuid))/check-in", report, identity: identity, root: root)
        } catch {
            logger.info("check-in failed", metadata: ["ember.reason": "\(error)"])
            return nil
        }
        guard reply.status == 200, let answer = try? JSONDecoder().decode(CheckInReply.self, from: reply.body) else {
            logger.info("check-in refused", metadata: ["ember.cloud.status": "\(reply.status)", "ember.cloud.message": "\(reply.message)"])
            return nil
        }
        for action in answer.actions where acting {
            guard !Task.isCancelled, !decommissioned else { break }
            await perform(action, identity: identity, root: root)
        }
        return answer.checkInIntervalS
    }

    /// Does one action (or, when it was finished before, only reports its result again).
    private func perform(_ action: DeliveredAction, identity: IdentityBlock, root: String) async {
        if let finished = finishedActions().first(where: { $0.id == action.id }) {
            await report(finished, identity: identity, root: root)
            return
        }
        logger.notice("action received", metadata: ["ember.action": "\(action.type.rawValue)", "ember.action.id": "\(action.id)"])
        let outcome: (status: String, detail: String)
        switch action.type {
        case .decommission:
            // The notice carries the action id and completes it; the board restarts in the factory state.
            _ = try? await decommission(reason: .remote, actionID: action.id)
            return
        case .backupNow:
            do {
                outcome = ("done", "cloud answered \(try await pushBackup())")
            } catch {
                outcome = ("failed", APIErrorText.of(error))
            }
        case .rotateKey:
            do {
                outcome = ("done", "epoch \(try await rotateKey())")
            } catch {
                outcome = ("failed", APIErrorText.of(error))
            }
        case .configure:
            do {
                let applied = try await updateConfig(action.config ?? .object([:]), source: .remote)
                outcome = ("done", "config \(applied.hash)")
            } catch {
                outcome = ("failed", APIErrorText.of(error))
            }
        case .factoryReset:
            do {
                try await factoryReset(trigger: "remote")
                outcome = ("done", "settings back to defaults")
            } catch {
                outcome = ("failed", APIErrorText.of(error))
            }
        }
        let detail = String(String.UnicodeScalarView(outcome.detail.unicodeScalars.prefix(500)))
        let finished = FinishedAction(id: action.id, status: outcome.status, detail: detail)
        await remember(finished)
        await report(finished, identity: identity, root: root)
        if action.type == .factoryReset && finished.status == "done" { requestReboot(announce: false) }
    }

    /// Sends an action's result; a failure is retried at the next check-in (the action comes back until it lands).
    private func report(_ finished: FinishedAction, identity: IdentityBlock, root: String) async {
        let path = "/devices/\(DeviceUUID.format(identity.uuid))/actions/\(finished.id)/result"
        let body = ActionResultRequest(status: finished.status, detail: finished.detail)
        do {
            let reply = try await cloud.signedJSON(.POST, path, body, identity: identity, root: root)
            if reply.status != 204 && reply.status != 409 && reply.status != 404 {
                logger.warning("action result refused", metadata: ["ember.cloud.status": "\(reply.status)"])
            }
        } catch {
            logger.info("action result not sent; it goes again at the next check-in", metadata: ["ember.reason": "\(error)"])
        }
    }

    func finishedActions() -> [FinishedAction] {
        guard let data = try? board.config.read(Files.finishedActions) else { return [] }
        return (try? JSONDecoder().decode([FinishedAction].self, from: data)) ?? []
    }

    private func remember(_ finished: FinishedAction) async {
        let list = Array((finishedActions() + [finished]).suffix(Self.finishedActionsKept))
        guard let data = try? JSONEncoder().encode(list) else { return }
        let partition = board.config
        do {
            try await offload { () throws(HardwareError) in try partition.write(Files.finishedActions, data) }
        } catch {
            logger.error("could not record a finished action", metadata: ["ember.error": "\(error)"])
        }
    }
}

/// The message a failure would carry over HTTP, for action results.
public enum APIErrorText {
    public static func of(_ error: any Error) -> String {
        switch error as? AgentFailure {
        case .invalidConfiguration(let errors)?: ConfigErrors(errors).summary
        case let failure?: APIError(failure).message
        case nil: "\(error)"
        }
    }
}
