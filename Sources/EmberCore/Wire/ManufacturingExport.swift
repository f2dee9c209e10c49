import Foundation

/// The manufacturing record export (`GET /devices/export`): CSV with a header row first (RFC 4180), or one JSON
/// object per line.
public enum ManufacturingExport {
    public enum Format: String, Sendable, CaseIterable {
        case csv, jsonl

        public var contentType: String {
            switch self {
            case .csv: "text/csv; charset=utf-8"
            case .jsonl: "application/x-ndjson"
            }
        }
    }

    /// The CSV columns, in order.
    public static let columns = [
        "uuid", "product_id", "product_hex", "device_class", "state", "registration_date", "registered_by", "decommissioned_at",
        "region", "fleet_id", "firmware_version", "factory_test_passed", "factory_test_ran_at", "factory_test_failed", "key_epoch",
        "last_seen_at", "registering_application", "registering_version", "mcu", "network", "partitions",
    ]

    /// The header row, with its line end.
    public static var header: String { line(columns) }

    /// One device's line, with its line end.
    public static func line(_ record: DeviceRecord, format: Format) throws -> String {
        switch format {
        case .jsonl:
            var record = record
            record.backup = nil
            record.keys = nil
            return String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
        case .csv:
            let encoder = self.encoder
            func text<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
            let test = record.factoryTest
            return line([
                record.uuid, record.productID, record.productHex, record.deviceClass, record.state, String(record.registrationDate),
                record.registeredBy, record.decommissionedAt.map(String.init) ?? "", record.region ?? "", record.fleetID ?? "",
                record.firmwareVersion ?? record.lastCheckIn?.report.firmwareVersion ?? "", test?.passed.map { $0 ? "true" : "false" } ?? "",
                test?.ranAt.map(String.init) ?? "", (test?.failed ?? []).joined(separator: ";"), String(record.keyEpoch),
                record.lastCheckIn.map { String($0.at) } ?? "", record.registeringApplication, record.registeringVersion,
                try text(record.mcu), try text(record.network), try text(record.partitions),
            ])
        }
    }

    /// Fields joined by commas; a field with a comma, a quote or a line break is quoted, its quotes doubled.
    static func line(_ fields: [String]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            let utf8 = field.utf8
            guard utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
                bytes.append(contentsOf: utf8)
                continue
            }
            bytes.append(0x22)
            for byte in utf8 {
                bytes.append(byte)
                if byte == 0x22 { bytes.append(0x22) }
            }
            bytes.append(0x22)
        }
        bytes.append(contentsOf: [0x0D, 0x0A])
        return String(decoding: bytes, as: UTF8.self)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
