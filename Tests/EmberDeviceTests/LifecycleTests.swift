import EmberClient
import EmberCloud
import EmberCore
import EmberDevice
import EmberHTTP
import EmberTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The agent's side of the lifecycle against a live registry: check-ins, actions, decommissioning, rotation.
@Suite(.serialized)
struct LifecycleTests {
    static func tenSecondCheckIns(_ configuration: inout AgentConfiguration) {
        configuration.checkInInterval = 10
    }

    /// The files on the board's config partition.
    static func configFiles(_ device: TestDevice) -> Set<String> { BoardFolder.configFiles(device.folder) }

    @Test func aRemoteDecommissionWipesTheBoardAtTheNextCheckIn() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url, configure: Self.tenSecondCheckIns) { device in
                let uuid = try await device.register(with: cloud)
                #expect(try await device.request(.put, "/backup", json: #"{"site":"north"}"#).status == .noContent)
                #expect(try await device.request(.post, "/api/cloud-backup").status == .ok)
                try await device.scheduleIdle(.checkIn)
                _ = try await cloud.admin.queueAction(uuid, .decommission, reason: "retired")
                #expect(try await device.request(.post, "/api/cloud-backup").status == .badGateway, "410 at once")

                try await device.runSchedule(.checkIn)
                try await eventually { await device.agent.decommissioned }
                let events = try await device.events().map(\.text)
                #expect(events.prefix(2) == ["Event log started", "Decommissioned"], "\(events)")
                #expect(Self.configFiles(device).isSubset(of: ["decommissioned.json", "events.json", "errors.json"]), "\(Self.configFiles(device))")
                let display = try String(contentsOf: device.folder.appendingPathComponent("display.txt"), encoding: .utf8)
                #expect(display.contains("\nDecommissioned\n"))
                let record = try await cloud.admin.device(uuid)
                #expect(record.state == "decommissioned" && record.backup == nil)
                #expect(try await cloud.admin.actions(uuid).first?.state == .done)
                let audit = try await cloud.store.auditEntries(limit: 1_000, after: nil)
                let notice = try #require(audit.first { $0.action == "device.decommission_notice" })
                let logged = notice.detail.split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 2).last ?? "") }
                #expect(logged.last == "Decommissioning" && logged.contains("Cloud registered"), "the device's log, up to the decommission")

                let again = try await device.request(.post, "/api/registration", headers: [.xRegistrationKey: "ABC123"])
                #expect(again.status == .conflict && again.message == "Device decommissioned")
                // A reboot keeps the factory state.
                try await device.agent.reboot()
                #expect(await device.agent.decommissioned)
            }
        }
    }

    @Test func aLocalDecommissionWorksOfflineAndNotifiesLater() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                let uuid = try await device.register(with: cloud)
                let wrong = try await device.request(.post, "/api/decommission", json: #"{"uuid":"\#(UUID().uuidString)"}"#)
                #expect(wrong.status == .badRequest && wrong.message == "Confirmation uuid does not match this device")
                try SimulatedBoard.update(device.folder) { $0.faults.cloudUnreachable = true }
                try await device.agent.reboot()
                let reply = try await device.request(.post, "/api/decommission", json: #"{"uuid":"\#(uuid.uppercased())"}"#)
                #expect(reply.status == .ok && String(buffer: reply.body) == #"{"notified":false}"#)
                try await eventually { await device.agent.decommissioned }
                #expect(Self.configFiles(device).contains("decommission-pending"))
                #expect(!Self.configFiles(device).contains("device.json") && !Self.configFiles(device).contains("self-register-pending"))
                #expect(try await cloud.admin.device(uuid).state == "registered", "the registry has not heard yet")

                try SimulatedBoard.update(device.folder) { $0.faults.cloudUnreachable = false }
                try await device.agent.reboot()
                try await eventually { !Self.configFiles(device).contains("decommission-pending") }
                #expect(try await cloud.admin.device(uuid).state == "decommissioned")
                #expect(try await device.events().map(\.text).contains("Decommission notified"))
            }
        }
    }

    @Test func rotationByTheAPIAndByAnActionKeepsTheDeviceAuthenticated() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url, configure: Self.tenSecondCheckIns) { device in
                let uuid = try await device.register(with: cloud)
                let rotated = try await device.request(.post, "/api/keys/rotate")
                #expect(rotated.status == .ok && String(buffer: rotated.body) == #"{"epoch":1}"#, "\(rotated.message ?? "")")
                var record = try await cloud.admin.device(uuid)
                #expect(record.keyEpoch == 1 && record.keys?.map(\.state) == [.retired, .active])
                #expect(try await device.events().map(\.text).contains("Key rotated"))

                try await device.scheduleIdle(.checkIn)
                let action = try await cloud.admin.queueAction(uuid, .rotateKey, reason: "yearly")
                try await device.runSchedule(.checkIn)
                try await eventually { try await cloud.admin.actions(uuid).first { $0.id == action.id }?.state == .done }
                record = try await cloud.admin.device(uuid)
                #expect(record.keyEpoch == 2 && record.keys?.map(\.state) == [.retired, .retired, .active])
                #expect(try await cloud.admin.actions(uuid).first?.detail == "epoch 2")
                // Still authenticated: the signed backup calls work with epoch 2.
                #expect(try await device.request(.put, "/backup", json: "{}").status == .noContent)
                #expect(try await device.request(.post, "/api/cloud-backup").status == .ok)
            }
        }
    }

    @Test func actionsAreDoneOnceAndReportedAgainAfterACrash() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url, configure: Self.tenSecondCheckIns) { device in
                let uuid = try await device.register(with: cloud)
                #expect(try await device.request(.put, "/backup", json: #"{"a":1}"#).status == .noContent)
                try await device.scheduleIdle(.checkIn)
                let backup = try await cloud.admin.queueAction(uuid, .backupNow)
                try await device.runSchedule(.checkIn)
                try await eventually { try await cloud.admin.actions(uuid).first?.state == .done }
                #expect(try await cloud.store.backupInfo(uuid: uuid) != nil, "backup-now pushed the backup")
                #expect(try await cloud.admin.actions(uuid).first?.id == backup.id)

                // An action the device finished before a crash lost its result: it is reported, not done again.
                try await device.scheduleIdle(.checkIn)
                let second = try await cloud.admin.queueAction(uuid, .backupNow)
                let finished = #"[{"id":\#(second.id),"status":"done","detail":"finished before the crash"}]"#
                try Data(finished.utf8).write(to: device.folder.appendingPathComponent("config/actions-done.json"))
                _ = try await cloud.store.deleteBackup(
                    uuid: uuid,
                    audit: AuditEvent(at: 0, by: AuditActor(actor: "t", client: "t"), action: "t", subject: uuid)
                )
                try await device.runSchedule(.checkIn)
                try await eventually { try await cloud.admin.actions(uuid).first?.state == .done }
                #expect(try await cloud.admin.actions(uuid).first?.detail == "finished before the crash")
                #expect(try await cloud.store.backupInfo(uuid: uuid) == nil, "not pushed a second time")

                try await device.scheduleIdle(.checkIn)
                #expect(try await device.request(.patch, "/api/config", json: #"{"region":"eu-west"}"#).status == .ok)
                #expect(Self.configFiles(device).isSuperset(of: ["backup.json", "backup.etag"]))
                _ = try await cloud.admin.queueAction(uuid, .factoryReset)
                try await device.runSchedule(.checkIn)
                try await eventually { try await cloud.admin.actions(uuid).first?.state == .done }
                // The reset by the registry: the local backup and the settings gone, the identity and logs kept.
                try await eventually { Self.configFiles(device).isDisjoint(with: ["backup.json", "backup.etag"]) }
                try await eventually { await device.agent.config.region == "" }
                #expect(Self.configFiles(device).isSuperset(of: ["events.json", "config-history.json", "actions-done.json"]))
                #expect(try await device.agent.identity() != nil)
                let history = try await device.request(.get, "/api/config/history").json([ConfigChange].self)
                #expect(history.first?.source == .reset)
            }
        }
    }
}
