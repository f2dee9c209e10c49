import Foundation

/// Device UUIDs: RFC 4122 text (any case in, lower case out) and the 16 raw eFuse bytes.
public enum DeviceUUID {
    /// Parses `8-4-4-4-12` hex text in any case; nil for anything else.
    public static func parse(_ text: String) -> UUID? {
        let chars = Array(text.utf8)
        guard chars.count == 36 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var index = 0
        while index < 36 {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard chars[index] == UInt8(ascii: "-") else { return nil }
                index += 1
                continue
            }
            guard let high = Hex.nibble(chars[index]), let low = Hex.nibble(chars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return from(bytes: bytes)
    }

    /// The UUID whose textual order is these 16 bytes (eFuse BLOCK1 bytes 0–15); nil unless exactly 16.
    public static func from<Bytes: Collection>(bytes: Bytes) -> UUID? where Bytes.Element == UInt8 {
        let b = Array(bytes)
        guard b.count == 16 else { return nil }
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    /// The 16 bytes in textual order.
    public static func bytes(of uuid: UUID) -> [UInt8] {
        withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    /// Lower-case `8-4-4-4-12` text, the form Ember stores and FireFly prints.
    public static func format(_ uuid: UUID) -> String {
        uuid.uuidString.lowercased()
    }
}
