import EmberCore
import Foundation
import Logging

/// The device lifecycle after registration: check-ins and the actions they deliver, decommissioning, key rotation.
public struct Lifecycle: Sendable {
    let store: any ActionRepository & DeviceRepository & DeviceKeyRepository
    let clock: any RegistryClock
    let metrics: EmberMetrics
    let ledger: CheckInLedger
    /// The `check_in_interval_s` every answer carries.
    let checkInInterval: Int64

    /// `POST /devices/{uuid}/check-in`: records the report and hands over the unfinished actions.
    func checkIn(_ device: DeviceCredential, body: Data) async throws -> CheckInReply {
        let report: CheckInReport
        do {
            report = body.isEmpty ? CheckInReport() : try WireDecoder.decode(CheckInReport.self, from: body).validated()
        } catch {
            throw RegistryError.badRequest(error.message)
        }
        let now = clock.now()
        var recorded = report
        recorded.keyEpoch = device.signedWith
        ledger.record(uuid: device.uuid, LastCheckIn(at: now, report: recorded))
        let actions =
            device.hasOpenActions == false ? [] : try await store.deliverActions(uuid: device.uuid, decommissioned: device.decommissioned, now: now)
        metrics.checkIn(actions.isEmpty ? "idle" : "delivered")
        for action in actions where action.deliveredAt == now { metrics.action(action.type, "delivered") }
        return CheckInReply(actions: actions.map(\.delivered), checkInIntervalS: checkInInterval)
    }

    /// `POST /devices/{uuid}/actions` (admin).
    /// With `scope` (a `user` caller's account) only that account's devices, and only `backup-now` and
    /// `factory-reset`; another account's device is 404, as if it did not exist.
    func createAction(uuid text: String, body: Data, by actor: AuditActor, scope: String? = nil) async throws -> DeviceAction {
        let uuid = try Devices.canonicalUUID(text)
        let request: (type: ActionType, reason: String, config: JSONValue?)
        do {
            request = try WireDecoder.decode(ActionRequest.self, from: body).validated()
        } catch {
            throw RegistryError.badRequest(error.message)
        }
        if let scope {
            try await Devices.requireOwned(uuid, by: scope, store: store)
            guard Self.userActions.contains(request.type) else {
                throw RegistryError.forbidden("A user token may queue backup-now and factory-reset only")
            }
        }
        switch try await store.createAction(
            uuid: uuid,
            type: request.type,
            reason: request.reason,
            config: request.config,
            now: clock.now(),
            by: actor
        ) {
        case .created(let action):
            metrics.action(action.type, "created")
            if action.type == .decommission { metrics.decommissioned("admin") }
            return action
        case .unknownDevice: throw RegistryError.notFound("No device \(uuid)")
        case .decommissioned: throw RegistryError.decommissioned
        }
    }

    /// `GET /devices/{uuid}/actions` (admin), newest first.
    /// The actions a `user` token may queue on its account's devices.
    static let userActions: Set<ActionType> = [.backupNow, .factoryReset]

    func actions(uuid text: String, scope: String? = nil) async throws -> [DeviceAction] {
        let uuid = try Devices.canonicalUUID(text)
        if let scope { try await Devices.requireOwned(uuid, by: scope, store: store) }
        guard let actions = try await store.actions(uuid: uuid) else { throw RegistryError.notFound("No device \(uuid)") }
        return actions
    }

    /// `DELETE /devices/{uuid}/actions/{id}` (admin): only while pending.
    func cancelAction(uuid text: String, id idText: String, by actor: AuditActor) async throws {
        let uuid = try Devices.canonicalUUID(text)
        let id = try Self.actionID(idText)
        switch try await store.cancelAction(uuid: uuid, id: id, now: clock.now(), by: actor) {
        case .cancelled, .alreadyCancelled: return
        case .notFound: throw RegistryError.notFound("Action not found")
        case .alreadyDelivered: throw RegistryError.conflict("Action already delivered")
        }
    }

    /// `POST /devices/{uuid}/actions/{id}/result` (device).
    func completeAction(_ device: DeviceCredential, id idText: String, body: Data, client: String) async throws {
        let id = try Self.actionID(idText)
        let result: (status: ActionState, detail: String)
        do {
            result = try WireDecoder.decode(ActionResultRequest.self, from: body).validated()
        } catch {
            throw RegistryError.badRequest(error.message)
        }
        let actor = AuditActor(actor: "device:\(device.uuid)", client: client)
        switch try await store.completeAction(
            uuid: device.uuid,
            id: id,
            state: result.status,
            detail: result.detail,
            now: clock.now(),
            by: actor
        ) {
        case .recorded, .repeated: return
        case .notFound: throw RegistryError.notFound("Action not found")
        case .conflict: throw RegistryError.conflict("Action already completed")
        }
    }

    /// `POST /devices/{uuid}/decommission` (device): the notice of a local or remote decommission; idempotent.
    func decommissionNotice(_ device: DeviceCredential, body: Data, client: String) async throws -> DecommissionAcknowledged {
        let notice: DecommissionNotice
        do {
            notice = try WireDecoder.decode(DecommissionNotice.self, from: body).validated()
        } catch {
            throw RegistryError.badRequest(error.message)
        }
        let log = (notice.events ?? []).map { "\($0.time) \($0.level) \($0.text)" }.joined(separator: "\n")
        let audit = AuditEvent(
            at: clock.now(),
            by: AuditActor(actor: "device:\(device.uuid)", client: client),
            action: "device.decommission_notice",
            subject: device.uuid,
            detail: "\(notice.reason ?? "") decommission\(notice.actionID.map { " (action #\($0))" } ?? "")\(log.isEmpty ? "" : ":\n\(log)")"
        )
        guard let at = try await store.recordDecommissionNotice(uuid: device.uuid, actionID: notice.actionID, audit: audit) else {
            throw RegistryError.notFound(DeviceAuthError.unknownDevice.message)
        }
        if !device.decommissioned { metrics.decommissioned("device") }
        return DecommissionAcknowledged(decommissionedAt: at)
    }

    /// `POST /devices/{uuid}/keys` (device, signed with its current key): the next epoch's key, pending until used.
    /// Returns whether it was stored now (201) or already (200).
    func submitKey(_ device: DeviceCredential, body: Data, nonce: String, client: String) async throws -> (KeyAccepted, created: Bool) {
        guard let uuid = DeviceUUID.parse(device.uuid) else { throw RegistryError.badRequest(WireError.invalidUUID.message) }
        let submitted: (epoch: Int, key: DevicePublicKey)
        do {
            submitted = try WireDecoder.decode(KeySubmission.self, from: body).validated(uuid: uuid, nonce: nonce)
        } catch {
            metrics.keyRotation("refused")
            throw RegistryError.badRequest(error.message)
        }
        let now = clock.now()
        let audit = AuditEvent(
            at: now,
            by: AuditActor(actor: "device:\(device.uuid)", client: client),
            action: "key.submitted",
            subject: device.uuid,
            detail: "epoch \(submitted.epoch), signed with epoch \(device.signedWith)"
        )
        switch try await store.submitKey(uuid: device.uuid, epoch: submitted.epoch, publicKey: submitted.key.base64, now: now, audit: audit) {
        case .created:
            metrics.keyRotation("submitted")
            return (KeyAccepted(epoch: submitted.epoch, state: .pending), true)
        case .replaced:
            metrics.keyRotation("replaced")
            return (KeyAccepted(epoch: submitted.epoch, state: .pending), true)
        case .same:
            return (KeyAccepted(epoch: submitted.epoch, state: .pending), false)
        case .wrongEpoch(let expected):
            metrics.keyRotation("refused")
            throw RegistryError.conflict("Key epoch must be \(expected)")
        }
    }

    static func actionID(_ text: String) throws -> Int64 {
        guard let id = Int64(text), id > 0 else { throw RegistryError.notFound("Action not found") }
        return id
    }
}
