/// A FireFly product code: `0x` + 8 hex digits on the wire, a `UInt32` in eFuse.
public struct ProductHex: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The product code.
    public let value: UInt32

    /// Wraps a product code.
    public init(_ value: UInt32) {
        self.value = value
    }

    /// Parses `^0x[0-9A-Fa-f]{8}$` (FireFly's rule); nil for anything else.
    public init?(_ text: String) {
        let chars = Array(text.utf8)
        guard chars.count == 10, chars[0] == UInt8(ascii: "0"), chars[1] == UInt8(ascii: "x") else { return nil }
        var value: UInt32 = 0
        for char in chars[2...] {
            guard let nibble = Hex.nibble(char) else { return nil }
            value = value << 4 | UInt32(nibble)
        }
        self.value = value
    }

    /// `0x` and 8 upper-case hex digits, e.g. `0x08062305`.
    public var description: String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// FireFly's derived product id: `0xAAAABBBB` → `FFCAAAA-BBBB`.
    public var productID: String {
        let hex = description.dropFirst(2)
        return "FFC\(hex.prefix(4))-\(hex.suffix(4))"
    }

    /// The 4 eFuse bytes, little-endian.
    public var littleEndianBytes: [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    /// Reads the 4 little-endian eFuse bytes; nil unless exactly 4.
    public init?<Bytes: Collection>(littleEndian bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 4 else { return nil }
        self.value = bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = ProductHex(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "product_hex must match 0xXXXXXXXX"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
