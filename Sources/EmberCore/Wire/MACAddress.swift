/// A 48-bit MAC address, printed `AA:BB:CC:DD:EE:FF` (upper case, colons).
public struct MACAddress: Sendable, Hashable, CustomStringConvertible {
    /// The six bytes.
    public let bytes: [UInt8]

    /// Six bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    /// Parses six two-digit hex groups separated by `:` (or `-`), any case; nil for anything else.
    public init?(_ text: String) {
        let chars = Array(text.utf8)
        guard chars.count == 17 else { return nil }
        let separator = chars[2]
        guard separator == UInt8(ascii: ":") || separator == UInt8(ascii: "-") else { return nil }
        var bytes: [UInt8] = []
        for group in 0..<6 {
            let index = group * 3
            if group > 0 { guard chars[index - 1] == separator else { return nil } }
            guard let high = Hex.nibble(chars[index]), let low = Hex.nibble(chars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    public var description: String {
        bytes.map { Hex.encode([$0]).uppercased() }.joined(separator: ":")
    }
}
