import Foundation

/// An I2C peripheral and whether it answered its probe.
public struct Peripheral: Sendable, Codable, Equatable {
    /// What sits at the address.
    public enum Kind: String, Sendable, Codable {
        case input = "INPUT"
        case output = "OUTPUT"
        case temperature = "TEMPERATURE"
        case oled = "OLED"
        case nvs = "NVS"
    }

    public var address: UInt8
    public var kind: Kind
    public var online: Bool

    /// A peripheral.
    public init(address: UInt8, kind: Kind, online: Bool) {
        self.address = address
        self.kind = kind
        self.online = online
    }

    /// `0x%02X`, as FireFly prints addresses.
    public var addressText: String { String(format: "0x%02X", address) }

    /// FireFly's error-log text for this peripheral being offline (at most 21 characters).
    public var offlineEvent: String {
        switch kind {
        case .input: "Inpt ctl \(addressText) offline"
        case .output: "Out ctl \(addressText) offline"
        case .temperature: "Temp sen \(addressText) offline"
        case .oled: "OLED \(addressText) offline"
        case .nvs: "NVS offline"
        }
    }

    enum CodingKeys: String, CodingKey {
        case address
        case kind = "type"
        case online
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .address)
        guard text.lowercased().hasPrefix("0x"), let address = UInt8(text.dropFirst(2), radix: 16) else {
            throw DecodingError.dataCorruptedError(forKey: .address, in: container, debugDescription: "address must be 0xNN")
        }
        self.address = address
        self.kind = try container.decode(Kind.self, forKey: .kind)
        self.online = try container.decode(Bool.self, forKey: .online)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(addressText, forKey: .address)
        try container.encode(kind, forKey: .kind)
        try container.encode(online, forKey: .online)
    }
}
