import EmberCore
import Hummingbird

/// A device as the admin API shows it: the stored record with readable dates.
struct DeviceView: ResponseCodable {
    var device: DeviceRecord
    var registrationDateText: String

    init(_ device: DeviceRecord) {
        self.device = device
        self.registrationDateText = DeviceTimestamp(epochSeconds: device.registrationDate).text
    }

    enum CodingKeys: String, CodingKey {
        case registrationDateText = "registration_date_text"
    }

    init(from decoder: any Decoder) throws {
        self.device = try DeviceRecord(from: decoder)
        self.registrationDateText = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .registrationDateText)
    }

    func encode(to encoder: any Encoder) throws {
        try device.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(registrationDateText, forKey: .registrationDateText)
    }
}

/// One page of devices; pass `next_after` as `after` for the next page (absent on the last page).
struct DevicePage: ResponseCodable {
    var devices: [DeviceView]
    var nextAfter: String?

    enum CodingKeys: String, CodingKey {
        case devices
        case nextAfter = "next_after"
    }
}

/// One page of the audit log.
struct AuditPage: ResponseCodable {
    var entries: [AuditEntry]
    var nextAfter: Int64?

    enum CodingKeys: String, CodingKey {
        case entries
        case nextAfter = "next_after"
    }
}

extension RegistrationKeyCreated: ResponseEncodable {}
extension RegistrationKeyList: ResponseEncodable {}
extension RegistrationStatus: ResponseEncodable {}
extension MessageBody: ResponseEncodable {}

/// `?limit=` of list routes: 1…1000, default 100.
func pageLimit(_ request: Request) throws -> Int {
    guard let text = request.uri.queryParameters["limit"] else { return 100 }
    guard let limit = Int(text), (1...1_000).contains(limit) else {
        throw RegistryError.badRequest("limit must be an integer from 1 to 1000")
    }
    return limit
}
