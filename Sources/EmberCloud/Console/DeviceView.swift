import EmberCore
import Foundation

/// One device as the console's detail page shows it: every value a string or a list, absent values as "—".
struct DeviceView {
    let device: DeviceRecord
    let actions: [DeviceAction]
    let canCancel: Bool

    var values: [String: Any] {
        let none = "—"
        var values: [String: Any] = [
            "device": [
                "uuid": device.uuid, "state": device.state, "productID": device.productID, "productHex": device.productHex,
                "deviceClass": device.deviceClass, "registeredBy": device.registeredBy, "registeringApplication": device.registeringApplication,
                "registeringVersion": device.registeringVersion,
            ],
            "stateClass": device.decommissionedAt == nil ? "ok" : "bad",
            "registered": ConsolePages.time(device.registrationDate),
            "firmware": device.firmwareVersion ?? none,
            "region": device.region ?? none,
            "fleet": device.fleetID ?? none,
            "owner": device.ownerAccount.map { "\($0) (claimed \(ConsolePages.time(device.claimedAt)) UTC)" } ?? "not claimed",
            "factoryTest": factoryTest,
            "mcu": mcu,
            "network": device.network.map { ["interface": $0.interface, "mac": $0.macAddress] },
            "partitions": device.partitions.map {
                ["label": $0.label, "type": $0.type, "subtype": $0.subtype, "address": String(format: "0x%06x", $0.address), "size": $0.size]
                    as [String: Any]
            },
            "keys": (device.keys ?? []).map {
                [
                    "epoch": $0.epoch, "state": $0.state.rawValue, "since": ConsolePages.time($0.activatedAt ?? $0.createdAt),
                    "publicKey": $0.publicKey,
                ]
                    as [String: Any]
            },
            "actions": actions.map(action),
        ]
        if let at = device.decommissionedAt { values["decommissioned"] = ConsolePages.time(at) }
        if let checkIn = device.lastCheckIn {
            values["checkIn"] = [
                "at": ConsolePages.time(checkIn.at), "firmware": checkIn.report.firmwareVersion ?? none,
                "configVersion": checkIn.report.configVersion.map(String.init) ?? none, "state": checkIn.report.state ?? none,
                "uptime": checkIn.report.uptimeS.map(ConsolePages.duration) ?? none,
            ]
        }
        if let backup = device.backup {
            values["backup"] =
                [
                    "size": backup.size, "etag": backup.etag.isEmpty ? none : backup.etag, "date": ConsolePages.time(backup.lastBackupDate),
                ] as [String: Any]
        }
        return values
    }

    private var factoryTest: String {
        guard let test = device.factoryTest, let passed = test.passed else { return "—" }
        let when = test.ranAt.map { " at \(ConsolePages.time($0)) UTC" } ?? ""
        if passed { return "passed" + when }
        return "failed" + when + ((test.failed ?? []).isEmpty ? "" : ": " + (test.failed ?? []).joined(separator: ", "))
    }

    private var mcu: [[String: String]] {
        let facts = device.mcu
        let rows: [(String, String?)] = [
            ("Model", facts.model), ("Revision", facts.revision.map(String.init)), ("Cores", facts.cores.map(String.init)),
            ("CPU", facts.cpuFreqMHz.map { "\($0) MHz" }), ("Flash", facts.flashChipSize.map { "\($0) bytes" }),
            ("Flash mode", facts.flashChipMode), ("PSRAM", facts.psramSize.map { "\($0) bytes" }),
            ("Features", facts.features.map { $0.joined(separator: ", ") }), ("IDF", facts.idfVersion),
        ]
        return rows.compactMap { name, value in value.map { ["name": name, "value": $0] } }
    }

    private func action(_ action: DeviceAction) -> [String: Any] {
        var row: [String: Any] = [
            "id": action.id, "uuid": action.uuid, "type": action.type.rawValue, "state": action.state.rawValue,
            "created": ConsolePages.time(action.createdAt), "createdBy": action.createdBy, "reason": action.reason,
            "cancellable": canCancel && action.state == .pending,
        ]
        if let detail = action.detail, !detail.isEmpty { row["detail"] = detail }
        return row
    }
}
